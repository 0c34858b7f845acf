import assert from "node:assert/strict";
import process from "node:process";
import { test } from "./_harness.ts";
import {
  checkPermissions,
  denoPermissionFlags,
  parsePermissionFlags,
} from "../executor/_deno_permissions.ts";

test("denoPermissionFlags() grants what the parent holds by default", () => {
  assert.deepEqual(denoPermissionFlags(undefined, "all"), ["-A"]);
  const held = { read: ["--allow-read"], env: ["--allow-env"] };
  assert.deepEqual(denoPermissionFlags("inherit", held), [
    "--allow-read",
    "--allow-env",
  ]);
  assert.deepEqual(denoPermissionFlags("none", "all"), []);
});

test("denoPermissionFlags() writes one flag per granted permission", () => {
  const flags = denoPermissionFlags(
    checkPermissions({
      read: ["/data", new URL("file:///tmp/a%20b")],
      net: true,
      env: "inherit",
      write: false,
      run: [],
    }),
    { env: ["--allow-env"] },
  );
  assert.deepEqual(flags, [
    "--allow-read=/data,/tmp/a b",
    "--allow-net",
    "--allow-env",
  ]);
  const all = {
    read: true,
    write: true,
    net: true,
    env: true,
    run: true,
    ffi: true,
    sys: true,
    import: true,
  };
  assert.deepEqual(denoPermissionFlags(checkPermissions(all), {}), ["-A"]);
});

test('denoPermissionFlags() passes partial grants and denials on with "inherit"', () => {
  const held = {
    read: ["--allow-read=/data,/tmp"],
    env: ["--allow-env", "--deny-env=HOME"],
  };
  assert.deepEqual(denoPermissionFlags("inherit", held), [
    "--allow-read=/data,/tmp",
    "--allow-env",
    "--deny-env=HOME",
  ]);
  assert.deepEqual(
    denoPermissionFlags(checkPermissions({ read: "inherit", net: true }), held),
    ["--allow-read=/data,/tmp", "--allow-net"],
  );
});

test("parsePermissionFlags() reads the grants of a Deno command line, long and short", () => {
  const args = [
    "run",
    "--quiet",
    "--allow-read=.,data",
    "-W=/out",
    "-N",
    "--allow-env",
    "--deny-env=HOME",
    "--unstable-worker-options",
    "--allow-run=deno",
    "--allow-sys=hostname",
  ];
  assert.deepEqual(parsePermissionFlags(args, "/work"), {
    read: ["--allow-read=/work,/work/data"],
    write: ["--allow-write=/out"],
    net: ["--allow-net"],
    env: ["--allow-env", "--deny-env=HOME"],
    run: ["--allow-run=deno"],
    sys: ["--allow-sys=hostname"],
  });
  assert.equal(parsePermissionFlags(["test", "-A"], "/work"), "all");
  assert.equal(parsePermissionFlags(["--allow-all"], "/work"), "all");
});

test("parsePermissionFlags() keeps what -A grants beside a denial", () => {
  const held = parsePermissionFlags(["-A", "--deny-read=secret"], "/work");
  assert.ok(held !== "all");
  assert.deepEqual(held.read, ["--allow-read", "--deny-read=/work/secret"]);
  assert.deepEqual(held.net, ["--allow-net"]);
  assert.deepEqual(denoPermissionFlags("inherit", held).slice(0, 3), [
    "--allow-read",
    "--deny-read=/work/secret",
    "--allow-write",
  ]);
});

test("denoPermissionFlags() and checkPermissions() reject what Deno cannot express", () => {
  assert.throws(
    () => denoPermissionFlags(checkPermissions({ net: ["a,b"] }), "all"),
    {
      name: "RangeError",
      message: 'Deno cannot grant "net" for "a,b": the value contains a comma',
    },
  );
  assert.throws(() => checkPermissions({ reed: true }), {
    name: "TypeError",
    message: 'unknown Deno permission "reed"',
  });
});

test("checkPermissions() makes relative paths absolute against the current directory", () => {
  const checked = checkPermissions({ read: ["data"], net: ["example.com"] });
  assert.ok(typeof checked === "object");
  assert.deepEqual(checked.read, [`${process.cwd()}/data`]);
  assert.deepEqual(checked.net, ["example.com"]);
  assert.equal(checked.write, false);
});
