import { lookup } from 'node:dns/promises';
import { errnoCode } from '#backends';

/** The addresses a DNS name has now (A and AAAA records), without duplicates; [] when it has none. */
export type HostResolver = (host: string) => Promise<string[]>;

export const HOST_RESOLVER = Symbol('HOST_RESOLVER');

/** getaddrinfo's answers to "no such name" and "no address": the name has no replica now, not a failure to resolve. */
const NO_ADDRESS_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Resolves as the system does (getaddrinfo: /etc/hosts, the pod's search domains and nameserver), every address at
 * once: a headless Kubernetes Service's name answers one A (or AAAA) record per ready pod, and none — NXDOMAIN — when no
 * pod is ready. A failure to ask (EAI_AGAIN, a DNS server down) is thrown, so that the replicas known stay.
 */
export const lookupAll: HostResolver = async (host) => {
  try {
    const found = await lookup(host, { all: true, order: 'ipv4first' });
    return [...new Set(found.map(({ address }) => address))];
  } catch (error) {
    if (NO_ADDRESS_CODES.has(errnoCode(error) ?? '')) return [];
    throw error;
  }
};
