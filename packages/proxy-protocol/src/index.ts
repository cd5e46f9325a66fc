/** @waitress-proxy/proxy-protocol: a strict PROXY protocol v1/v2 reader. */
export {};
