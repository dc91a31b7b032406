import { InvalidArgumentError } from '../errors.ts';

export interface S3Endpoint {
  endPoint: string;
  port: number;
  useSSL: boolean;
}

/** 'http://127.0.0.1:7480' → { endPoint: '127.0.0.1', port: 7480, useSSL: false }. Paths are not allowed (path-style buckets go there). */
export function parseS3Endpoint(url: string): S3Endpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`S3 endpoint '${url}' is not a URL like http://host:port`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new InvalidArgumentError(`S3 endpoint '${url}' must start with http:// or https://`);
  }
  if (parsed.pathname !== '/' || parsed.search || parsed.username) {
    throw new InvalidArgumentError(
      `S3 endpoint '${url}' must be only scheme, host and port (no path, query or credentials)`,
    );
  }
  const useSSL = parsed.protocol === 'https:';
  return {
    endPoint: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : useSSL ? 443 : 80,
    useSSL,
  };
}
