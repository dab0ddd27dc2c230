import { SetMetadata } from '@nestjs/common';

export const RAW_RESPONSE = 'latchkey:raw-response';

/** Answers as the handler returns it, without the `{success, data}` envelope (health, metrics, verify hot path). */
export const RawResponse = () => SetMetadata(RAW_RESPONSE, true);
