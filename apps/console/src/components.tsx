import { ApiError } from './api';

/** Every failure shows the API's own message and the request id to quote. */
export function ErrorNotice({ error }: { error: unknown }) {
  if (!error) return null;
  const apiError = error instanceof ApiError ? error : null;
  return (
    <div role="alert" className="error">
      <p>{apiError ? apiError.message : error instanceof Error ? error.message : 'Something went wrong.'}</p>
      {apiError?.requestId && (
        <p className="request-id">
          Request id: <code>{apiError.requestId}</code>
        </p>
      )}
    </div>
  );
}

/** The API's message for one field, shown beside it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.details.find((detail) => detail.field === field)?.message : undefined;
}

export function Field(props: { id: string; label: string; error?: string; children: React.ReactNode; hint?: string }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <p className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.error && (
        <p className="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      )}
    </div>
  );
}

export function formatDate(value: string | null, none = 'Never'): string {
  return value ? new Date(value).toLocaleString() : none;
}

/** A form field's text; a file input's value counts as empty. */
export function formText(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === 'string' ? value : '';
}
