import type { TSchema } from '@sinclair/typebox';
import { caduceusConfigSchema } from '@xmidt/caduceus';
import { petasosConfigSchema } from '@xmidt/petasos';
import { scytaleConfigSchema } from '@xmidt/scytale';
import { talariaConfigSchema } from '@xmidt/talaria';
import { themisConfigSchema } from '@xmidt/themis';

/** The services configured by a YAML file read with @xmidt/runtime's loadConfig. */
export const YAML_SERVICES = ['talaria', 'petasos', 'scytale', 'caduceus', 'themis'] as const;
export type YamlService = (typeof YAML_SERVICES)[number];

/** Each service's own configuration schema (the one its main.ts loads). */
export const SERVICE_SCHEMAS: Record<YamlService, TSchema> = {
  talaria: talariaConfigSchema,
  petasos: petasosConfigSchema,
  scytale: scytaleConfigSchema,
  caduceus: caduceusConfigSchema,
  themis: themisConfigSchema,
};
