import type { Target } from '../client/target-api.js';

/**
 * The paths `bench overhead` compares, and which route each asks. `/v1/generate` goes through the gateway to the
 * backend's `/generate_stream`; `/v1/chat/completions` through the gateway to the backend's own
 * `/v1/chat/completions`. Each gateway leg is measured against its own direct leg, asking the backend what the
 * gateway asks it.
 */
export type LegName = 'direct' | 'proxy' | 'gateway' | 'direct-chat' | 'proxy-chat' | 'gateway-chat';

export const LEG_NAMES: readonly LegName[] = [
  'direct',
  'proxy',
  'gateway',
  'direct-chat',
  'proxy-chat',
  'gateway-chat',
];

/** The legs of each `--route`: the backend's route straight, through the plain proxy, and the gateway's route. */
export const ROUTE_LEGS = {
  generate: ['direct', 'proxy', 'gateway'],
  chat: ['direct-chat', 'proxy-chat', 'gateway-chat'],
  both: ['direct', 'proxy', 'gateway', 'direct-chat', 'proxy-chat', 'gateway-chat'],
} as const satisfies Record<string, readonly LegName[]>;

/** Which server process does a leg's own work (its CPU is the leg's CPU per request). */
export function legServer(leg: LegName): 'backend' | 'proxy' | 'gateway' {
  if (leg === 'proxy' || leg === 'proxy-chat') return 'proxy';
  return leg === 'gateway' || leg === 'gateway-chat' ? 'gateway' : 'backend';
}

/** Each leg that adds to a path, and the leg it is measured against. */
export const ADDED_OVER: Partial<Record<LegName, LegName>> = {
  proxy: 'direct',
  gateway: 'direct',
  'proxy-chat': 'direct-chat',
  'gateway-chat': 'direct-chat',
};

export function isLegName(value: string): value is LegName {
  return (LEG_NAMES as readonly string[]).includes(value);
}

/** The gateway's own TGI backend client names its model "tgi" on TGI's `/v1/*` routes. */
const TGI_CHAT_MODEL = 'tgi';

export function legTarget(leg: LegName, urls: { backend: string; proxy?: string; gateway?: string }): Target {
  switch (leg) {
    case 'direct':
      return { url: urls.backend, api: 'tgi' };
    case 'proxy':
      return { url: urls.proxy!, api: 'tgi' };
    case 'gateway':
      return { url: urls.gateway!, api: 'gateway' };
    case 'direct-chat':
      return { url: urls.backend, api: 'openai', wireModel: TGI_CHAT_MODEL };
    case 'proxy-chat':
      return { url: urls.proxy!, api: 'openai', wireModel: TGI_CHAT_MODEL };
    case 'gateway-chat':
      return { url: urls.gateway!, api: 'openai' };
  }
}
