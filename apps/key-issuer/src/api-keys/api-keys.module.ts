import { Module } from '@nestjs/common';

import { KeyChangesModule } from '../key-changes/key-changes.module';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';

@Module({ imports: [KeyChangesModule], controllers: [ApiKeysController], providers: [ApiKeysService] })
export class ApiKeysModule {}
