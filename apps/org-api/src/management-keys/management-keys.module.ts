import { Module } from '@nestjs/common';

import { ManagementKeysController } from './management-keys.controller';
import { ManagementKeysService } from './management-keys.service';

/** Management keys: organisation tokens for scripts and CI (docs/api-conventions.md#management-keys). */
@Module({ controllers: [ManagementKeysController], providers: [ManagementKeysService] })
export class ManagementKeysModule {}
