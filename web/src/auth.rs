//! Bearer tokens: every mutating request (`POST`, `PUT`, `PATCH`, `DELETE`) needs one;
//! reads are open unless the service is told to guard them too. Tokens are compared in
//! constant time against every configured token, never logged, and `Debug` prints
//! them as `***`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// A secret: compared in constant time, shown as `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token; `None` when it is empty after trimming.
    pub fn new(text: &str) -> Option<Token> {
        let t = text.trim();
        (!t.is_empty()).then(|| Token(t.to_string()))
    }

    /// Whether `given` is this token, in time independent of where they differ.
    fn matches(&self, given: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(given).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Who may do what.
#[derive(Debug, Clone)]
pub struct Auth {
    tokens: Arc<Vec<Token>>,
    reads_need_token: bool,
}

impl Auth {
    /// Access with `tokens`; reads need one too when `reads_need_token`.
    pub fn new(tokens: Vec<Token>, reads_need_token: bool) -> Self {
        Auth {
            tokens: Arc::new(tokens),
            reads_need_token,
        }
    }

    /// Tokens from a file's text: one a line; blank lines and lines starting with `#`
    /// are skipped.
    pub fn tokens_from_text(text: &str) -> Vec<Token> {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .filter_map(Token::new)
            .collect()
    }

    /// Whether a request with `method` and `Authorization` header `header` may proceed.
    pub fn check(&self, method: &Method, header: Option<&HeaderValue>) -> Result<(), ApiError> {
        let mutating = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !mutating && !self.reads_need_token {
            return Ok(());
        }
        let Some(header) = header else {
            return Err(
                ApiError::unauthorized("a bearer token is needed (Authorization: Bearer TOKEN)")
                    .field("Authorization"),
            );
        };
        let given = header
            .as_bytes()
            .strip_prefix(b"Bearer ")
            .or_else(|| header.as_bytes().strip_prefix(b"bearer "))
            .ok_or_else(|| {
                ApiError::unauthorized("the Authorization header must be `Bearer TOKEN`")
                    .field("Authorization")
            })?;
        // Every token is compared, whichever matches, so that the time taken says nothing.
        let matched = self
            .tokens
            .iter()
            .fold(false, |found, t| t.matches(given) | found);
        if matched {
            Ok(())
        } else {
            Err(ApiError::unauthorized("the token is not valid").field("Authorization"))
        }
    }
}

/// Middleware: refuses a request that [`Auth::check`] refuses, with 401 and
/// `WWW-Authenticate: Bearer`, before any handler runs.
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Probes stay open whatever guards the reads: supervisors carry no token; so do the
    // dashboard's files, which hold no data (the page asks for a token when reads need one).
    let path = request.uri().path();
    if matches!(path, "/healthz" | "/readyz") || crate::ui::is_open(path) {
        return next.run(request).await;
    }
    match state
        .inner
        .auth
        .check(request.method(), request.headers().get(AUTHORIZATION))
    {
        Ok(()) => next.run(request).await,
        Err(e) => {
            let mut response = e.into_response();
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn auth(reads: bool) -> Auth {
        Auth::new(
            Auth::tokens_from_text("# operators\nalpha-123\n\n  beta-456  \n"),
            reads,
        )
    }

    #[test]
    fn mutations_need_a_configured_token() {
        let a = auth(false);
        let bearer = |t: &str| HeaderValue::from_str(&format!("Bearer {t}")).unwrap();
        assert!(a.check(&Method::GET, None).is_ok());
        assert!(a.check(&Method::POST, None).is_err());
        assert!(a.check(&Method::POST, Some(&bearer("alpha-123"))).is_ok());
        assert!(a.check(&Method::DELETE, Some(&bearer("beta-456"))).is_ok());
        assert!(a.check(&Method::POST, Some(&bearer("alpha-12"))).is_err());
        assert!(a.check(&Method::POST, Some(&bearer("alpha-1234"))).is_err());
        assert!(
            a.check(&Method::POST, Some(&HeaderValue::from_static("alpha-123")))
                .is_err()
        );
        assert!(auth(true).check(&Method::GET, None).is_err());
        assert!(
            Auth::new(Vec::new(), false)
                .check(&Method::POST, Some(&bearer("")))
                .is_err()
        );
    }

    #[test]
    fn tokens_never_show_in_debug() {
        let text = format!("{:?}", auth(false));
        assert!(!text.contains("alpha") && !text.contains("beta"), "{text}");
    }
}
