import { Module } from '@nestjs/common';

import { KeyChangePublisher } from './key-change.publisher';

@Module({ providers: [KeyChangePublisher], exports: [KeyChangePublisher] })
export class KeyChangesModule {}
