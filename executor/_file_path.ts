/**
 * The file system path of a `file:` URL, as a command line or a Deno
 * permission takes it.
 *
 * @module
 */

/**
 * The file system path of a `file:` URL.
 *
 * @param url A `file:` URL.
 * @returns Its path, with Windows drive letters kept as `C:\…`.
 * @throws {TypeError} For any other kind of URL.
 */
export function filePath(url: URL): string {
  if (url.protocol !== "file:") {
    throw new TypeError(`not a file URL: ${url.href}`);
  }
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:\//.test(path)
    ? path.slice(1).replaceAll("/", "\\")
    : path;
}
