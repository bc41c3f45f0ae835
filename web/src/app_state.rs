//! Application state: one value of any type given to the [`Application`] with
//! [`Application::with_state`] and read by every handler through [`Context::state`], instead
//! of cloning an `Rc` into every route's factory (Tornado passes such things through
//! `initialize` arguments or the settings dictionary).
//!
//! ```
//! use std::cell::Cell;
//! use web::{Application, Context, RequestHandler, Result};
//!
//! struct Counter(Cell<u64>);
//!
//! #[derive(Default)]
//! struct Hits;
//!
//! impl RequestHandler for Hits {
//!     async fn get(&mut self, cx: &mut Context<'_>) -> Result {
//!         let counter = cx.state::<Counter>()?;
//!         counter.0.set(counter.0.get() + 1);
//!         cx.write(counter.0.get().to_string());
//!         Ok(())
//!     }
//! }
//!
//! let app = Application::new(vec![web::url::<Hits>("/")]).with_state(Counter(Cell::new(0)));
//! assert!(app.state::<Counter>().is_some());
//! ```
//!
//! The value is kept in the application's [`AppData`](crate::app_data::AppData), in the
//! [`Settings`] that every [`Context`] already has.

use crate::application::Application;
use crate::context::Context;
use crate::error::{HttpError, Result};
use crate::settings::Settings;

impl Application {
    /// Gives the application its state (any type), reachable from every handler with
    /// [`Context::state`]. Replaces an earlier one. Only before the application is shared
    /// (cloned or serving).
    pub fn with_state<T: 'static>(mut self, state: T) -> Application {
        self.shared_mut("with_state").settings.app_data.state = Some(Box::new(state));
        self
    }

    /// The application's state, if it has one of type `T`.
    pub fn state<T: 'static>(&self) -> Option<&T> {
        self.0.settings.app_data.state.as_deref()?.downcast_ref()
    }
}

impl<'a> Context<'a> {
    /// The application's state (given with [`Application::with_state`]); a 500 error (logged)
    /// if it has none of type `T`.
    pub fn state<T: 'static>(&self) -> Result<&'a T> {
        let settings: &'a Settings = self.settings;
        settings
            .app_data
            .state
            .as_deref()
            .and_then(|s| s.downcast_ref())
            .ok_or_else(|| {
                HttpError::with_log(
                    500,
                    format!(
                        "no application state of type {} (see Application::with_state)",
                        std::any::type_name::<T>()
                    ),
                )
            })
    }
}
