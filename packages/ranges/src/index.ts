/** @waitress-proxy/ranges: trusted proxy ranges that stay current. */
export {};
