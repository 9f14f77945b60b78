//! What the log leaves out: the embedded broker's report of a client that disconnected
//! normally.
//!
//! rumqttd logs `ERROR rumqttd::server::broker: router-drop error=Recv(Disconnected)`
//! whenever its router lets go of a connection, which is what a normal disconnect does
//! (every `campustwin sensors` run that ends says so to the `ingest` beside it). An
//! operator must not be asked to act on that; any other error of the broker still shows.

use tracing::Metadata;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Filter};

/// Drops the broker's `router-drop` events; lets every other event through.
#[derive(Debug, Clone, Copy)]
pub struct NormalDisconnects;

impl<S> Filter<S> for NormalDisconnects {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &tracing::Event<'_>, _cx: &Context<'_, S>) -> bool {
        if event.metadata().target() != "rumqttd::server::broker" {
            return true;
        }
        let mut message = MessageIs("router-drop", false);
        event.record(&mut message);
        !message.1
    }
}

/// Whether an event's message is the given text.
struct MessageIs(&'static str, bool);

impl Visit for MessageIs {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" && format!("{value:?}") == self.0 {
            self.1 = true;
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" && value == self.0 {
            self.1 = true;
        }
    }
}
