//! `AppData`: what an application keeps for its handlers inside its [`Settings`](crate::Settings)
//! (which every `Context` has): the value of `Application::with_state` (see `app_state.rs`),
//! the named routes for templates' `reverse_url`, and the compiled templates (see
//! `app_templates.rs`).

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use crate::app_templates::AppTemplates;
use crate::routing::Router;

/// What an [`Application`](crate::Application) attaches to its [`Settings`](crate::Settings) for its handlers: the value given to
/// [`Application::with_state`](crate::Application::with_state), the named routes for templates' `reverse_url`, and the
/// compiled templates. Filled in by the application: leave it to `..Settings::default()`.
pub struct AppData {
    /// The application's state.
    pub(crate) state: Option<Box<dyn Any>>,
    /// The named routes without their targets (templates' `reverse_url` needs them shareable).
    pub(crate) routes: Arc<Router<()>>,
    /// The templates (their environment and the application's namespace), made at the first
    /// render or WebSocket handshake.
    pub(crate) templates: RefCell<Option<Rc<AppTemplates>>>,
}

impl Default for AppData {
    fn default() -> Self {
        AppData {
            state: None,
            routes: Arc::new(Router::new(Vec::new())),
            templates: RefCell::new(None),
        }
    }
}

impl fmt::Debug for AppData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppData")
            .field("state", &self.state.is_some())
            .finish_non_exhaustive()
    }
}
