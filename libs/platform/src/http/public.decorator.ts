import { SetMetadata } from '@nestjs/common';

export const PUBLIC_ROUTE = 'latchkey:public';

/** The route needs no session (signup, login, health, metrics, the verify endpoints with their own checks). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
