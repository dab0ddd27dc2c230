import { CheckRefusalCode, ErrorCode, ErrorDetail } from '@latchkey/contracts';

export interface ErrorEnvelope {
  success: false;
  error: {
    /** A catalogue code; on `GET /v1/check`, the refused key's verdict code. */
    code: ErrorCode | CheckRefusalCode;
    message: string;
    details: ErrorDetail[];
    request_id: string;
  };
}

export function errorEnvelope(
  error: { code: ErrorCode | CheckRefusalCode; message: string; details: ErrorDetail[] },
  requestId: string,
): ErrorEnvelope {
  return {
    success: false,
    error: { code: error.code, message: error.message, details: error.details, request_id: requestId },
  };
}

export function internalErrorEnvelope(requestId: string): ErrorEnvelope {
  return {
    success: false,
    error: {
      code: 'INTERNAL_ERROR',
      message: `Something went wrong on our side. Quote ${requestId} when reporting it.`,
      details: [],
      request_id: requestId,
    },
  };
}
