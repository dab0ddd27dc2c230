import { Module } from '@nestjs/common';

import { Clock } from './clock';

/** One Clock for the whole worker, so moving it in a test moves every rule that reads it. */
@Module({ providers: [Clock], exports: [Clock] })
export class ClockModule {}
