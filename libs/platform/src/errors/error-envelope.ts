import { AppError } from './app-error';

export interface ErrorEnvelope {
  success: false;
  error: {
    code: string;
    message: string;
    details: { field?: string; message: string }[];
    request_id: string;
  };
}

export function errorEnvelope(error: AppError, requestId: string): ErrorEnvelope {
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
