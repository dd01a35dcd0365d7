/**
 * `domainToASCII` of `node:url` for the browser bundle: the WHATWG URL parser applies the
 * same UTS #46 mapping Node's function does; '' for what is not a domain, like Node.
 */
export function domainToASCII(domain: string): string {
  try {
    return new URL(`http://${domain}/`).hostname;
  } catch {
    return '';
  }
}
