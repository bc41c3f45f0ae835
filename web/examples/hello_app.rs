//! The first application of the README's "Use it from your own Cargo project":
//! `cargo run -p web --example hello_app`, then `curl 'localhost:8888/?name=you'`.
use web::{url, Application, Context, RequestHandler, Result};

#[derive(Default)]
struct MainHandler;

impl RequestHandler for MainHandler {
    async fn get(&mut self, cx: &mut Context<'_>) -> Result {
        let name = cx.argument_or("name", "world")?.to_owned();
        cx.write(format!("Hello, {name}!\n"));
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let app = Application::new(vec![url::<MainHandler>("/")]);
    let _server = app.listen(8888)?;
    reactor::Reactor::current().run();
    Ok(())
}
