//! The operator dashboard: a page, its script and style, and the charting library, all
//! compiled into the binary (one file runs anywhere, offline), served at `/` and `/ui/…`.
//!
//! The page reads the same API as every other client (`/api/v1/…` and the event stream);
//! it holds no data itself, so its files are open like the health probes: a browser asks
//! for them before anyone has typed a token.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::AppState;

/// One file of the dashboard.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// A file of `web/ui/`, compiled in.
macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../ui/", $name)),
        }
    };
}

/// Every file, by its name under `/ui/` (the page itself is `/`).
const ASSETS: [Asset; 5] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("vendor/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/uPlot.min.css", "text/css; charset=utf-8"),
];

/// Paths the token check lets through: the page and its files.
pub(crate) fn is_open(path: &str) -> bool {
    path == "/" || path.starts_with("/ui/")
}

/// The dashboard's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { serve("index.html", &headers) }),
        )
        .route(
            "/ui/{*name}",
            get(|Path(name): Path<String>, headers: HeaderMap| async move { serve(&name, &headers) }),
        )
}

/// The file `name`, or 304 when the browser's copy is current (the `ETag` is a hash of
/// the bytes: a new build revalidates, an unchanged file is not sent again).
fn serve(name: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return ApiError::not_found(format!("no dashboard file {name:?}")).into_response();
    };
    let etag = format!("\"{:016x}\"", crate::fnv1a(asset.bytes));
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = (CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return (StatusCode::NOT_MODIFIED, [(ETAG, etag_value), cache]).into_response();
    }
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
            (ETAG, etag_value),
            cache,
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;

    fn ui_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
    }

    /// The version the lock file pins for `package`.
    fn locked_version(package: &str) -> String {
        let lock = std::fs::read_to_string(ui_dir().join("package-lock.json")).unwrap();
        let lock: serde_json::Value = serde_json::from_str(&lock).unwrap();
        lock["packages"][format!("node_modules/{package}")]["version"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn the_vendored_chart_library_is_the_version_the_lock_file_pins() {
        let version = locked_version("uplot");
        let script = std::str::from_utf8(&ASSETS[3].bytes[..120]).unwrap_or("");
        assert!(
            script.contains(&format!("(v{version})")),
            "vendor/uPlot.iife.min.js is not uPlot {version}: run web/ui/vendor.sh"
        );
        // Where `npm ci` has run (CI does), the files are byte for byte the package's.
        let installed = ui_dir().join("node_modules/uplot");
        if installed.exists() {
            for (vendored, original) in [
                ("vendor/uPlot.iife.min.js", "dist/uPlot.iife.min.js"),
                ("vendor/uPlot.min.css", "dist/uPlot.min.css"),
                ("vendor/uPlot.LICENSE", "LICENSE"),
            ] {
                let a = std::fs::read(ui_dir().join(vendored)).unwrap();
                let b = std::fs::read(installed.join(original)).unwrap();
                assert!(
                    a == b,
                    "{vendored} differs from the installed uplot's {original}: run web/ui/vendor.sh"
                );
            }
        }
    }

    #[test]
    fn every_file_the_page_names_is_served() {
        let page = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        for asset in &ASSETS[1..] {
            assert!(
                page.contains(&format!("/ui/{}", asset.name)),
                "the page does not load {}",
                asset.name
            );
        }
        // And nothing from elsewhere: the dashboard works offline.
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "the page loads from the network"
        );
    }

    #[test]
    fn an_unchanged_file_is_not_sent_again() {
        let first = serve("app.js", &HeaderMap::new());
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers().get(ETAG).unwrap().clone();
        let mut headers = HeaderMap::new();
        headers.insert(IF_NONE_MATCH, etag);
        assert_eq!(serve("app.js", &headers).status(), StatusCode::NOT_MODIFIED);
        assert_eq!(
            serve("nothing.js", &HeaderMap::new()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
