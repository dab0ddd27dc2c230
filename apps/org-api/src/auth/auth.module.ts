import { Module } from '@nestjs/common';

import { ThrottleModule } from '../throttle/throttle.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';

@Module({ imports: [ThrottleModule], controllers: [AuthController], providers: [AuthService] })
export class AuthModule {}
