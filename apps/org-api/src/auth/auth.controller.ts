import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiHeaderOptions, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply, FastifyRequest } from 'fastify';

import {
  BrowserSessionCookieOptions,
  browserSessionCookieOptions,
  clearBrowserSession,
  COOKIE_ONLY_HEADER,
  CurrentUser,
  ROLE_RULES,
  Roles,
  setBrowserSession,
  UserPrincipal,
  wantsCookieOnly,
} from '@latchkey/access';
import { actorFromRequest } from '@latchkey/audit';
import { AppConfig } from '@latchkey/config';
import { ApiEnvelope, Public } from '@latchkey/platform';

import { AuthService } from './auth.service';
import { EmailTokenDto } from './dto/email-token.dto';
import { LoginDto } from './dto/login.dto';
import { PasswordResetConfirmDto, PasswordResetDto } from './dto/password-reset.dto';
import { SessionResponseDto, UserResponseDto } from './dto/session-response.dto';
import { SignupDto } from './dto/signup.dto';
import { SwitchOrgDto } from './dto/switch-org.dto';

const COOKIE_ONLY_HEADER_DOC: ApiHeaderOptions = {
  name: COOKIE_ONLY_HEADER,
  required: false,
  enum: ['cookie'],
  description: 'Send `cookie` to get the session as the HttpOnly cookie alone, with no token in the body (the console does).',
};

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  private get cookieOptions(): BrowserSessionCookieOptions {
    return browserSessionCookieOptions(this.config.get('NODE_ENV'));
  }

  /**
   * Bearer clients read the token from the body; a browser gets it as the HttpOnly session
   * cookie too. A client that asks for the cookie alone (the console, X-Latchkey-Session:
   * cookie) gets no token in the body, so no script on its page ever holds a Bearer token.
   */
  private openBrowserSession(request: FastifyRequest, reply: FastifyReply, session: SessionResponseDto): SessionResponseDto {
    if (!session.token) return session;
    setBrowserSession(reply, session.token, new Date(session.expires_at), this.cookieOptions);
    if (!wantsCookieOnly(request)) return session;
    session.token = undefined;
    return session;
  }

  @Post('signup')
  @Public()
  @ApiOperation({ summary: 'Create an account and its organisation; the new user is its owner.' })
  @ApiEnvelope(SessionResponseDto, { status: HttpStatus.CREATED })
  @ApiHeader(COOKIE_ONLY_HEADER_DOC)
  async signup(
    @Body() dto: SignupDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionResponseDto> {
    const input = { email: dto.email, password: dto.password, name: dto.name, orgName: dto.org_name };
    return this.openBrowserSession(request, reply, await this.auth.signup(input, actorFromRequest(request)));
  }

  @Post('login')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Open a session. Repeated failures are slowed, then locked (429) per account and per address.' })
  @ApiEnvelope(SessionResponseDto)
  @ApiHeader(COOKIE_ONLY_HEADER_DOC)
  async login(
    @Body() dto: LoginDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionResponseDto> {
    const input = { email: dto.email, password: dto.password, orgId: dto.org_id };
    return this.openBrowserSession(request, reply, await this.auth.login(input, actorFromRequest(request)));
  }

  @Post('verify-email')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Verify my email address with the single-use token mailed at signup (valid 24 h).',
    description:
      'Needs the session of the account the token was mailed for: whoever opens the link proves they own the address ' +
      "and the account, so an account opened with another person's address is not verified by its owner clicking.",
  })
  @ApiEnvelope(UserResponseDto)
  verifyEmail(@CurrentUser() user: UserPrincipal, @Body() dto: EmailTokenDto): Promise<UserResponseDto> {
    return this.auth.verifyEmail(user.userId, dto.token);
  }

  @Post('resend-verification')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Mail a new verification link to my address. 409 EMAIL_ALREADY_VERIFIED; throttled (429).' })
  @ApiEnvelope(null, { status: HttpStatus.ACCEPTED })
  async resendVerification(@CurrentUser() user: UserPrincipal, @Req() request: FastifyRequest): Promise<null> {
    await this.auth.resendVerification(user.userId, actorFromRequest(request));
    return null;
  }

  @Post('password-reset')
  @Public()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Mail a password reset link (1 h, single use) to an address.',
    description: 'Always 202, whether or not the address has an account. Throttled per address and email (429).',
  })
  @ApiEnvelope(null, { status: HttpStatus.ACCEPTED })
  async passwordReset(@Body() dto: PasswordResetDto, @Req() request: FastifyRequest): Promise<null> {
    await this.auth.requestPasswordReset(dto.email, actorFromRequest(request));
    return null;
  }

  @Post('password-reset/confirm')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Set a new password with the mailed token; every one of the user's sessions ends." })
  @ApiEnvelope(null)
  async confirmPasswordReset(@Body() dto: PasswordResetConfirmDto): Promise<null> {
    await this.auth.confirmPasswordReset(dto.token, dto.password);
    return null;
  }

  @Post('logout')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Revoke the current session token.' })
  @ApiEnvelope(null)
  async logout(@CurrentUser() user: UserPrincipal, @Res({ passthrough: true }) reply: FastifyReply): Promise<null> {
    await this.auth.logout(user.sessionId);
    clearBrowserSession(reply, this.cookieOptions);
    return null;
  }

  @Post('switch-org')
  @Roles(...ROLE_RULES.anyMember)
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Bind the current session to another organisation the user belongs to.' })
  @ApiEnvelope(SessionResponseDto)
  switchOrg(@CurrentUser() user: UserPrincipal, @Body() dto: SwitchOrgDto): Promise<SessionResponseDto> {
    return this.auth.switchOrg(user.sessionId, user.userId, dto.org_id);
  }

  @Get('session')
  @Roles(...ROLE_RULES.anyMember)
  @ApiOperation({ summary: 'The current session: user, organisation, role and expiry.' })
  @ApiEnvelope(SessionResponseDto)
  session(@CurrentUser() user: UserPrincipal): Promise<SessionResponseDto> {
    return this.auth.describeSession(user.sessionId, user.userId, user.orgId);
  }
}
