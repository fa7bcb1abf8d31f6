//! Compiles the web page's stylesheet (engine/web/bridges.scss over the
//! vendored govuk-frontend Sass) with grass into OUT_DIR, where
//! `web::STYLESHEET` embeds it: the binary serves it, nothing comes from a
//! CDN, and a Sass error fails the build.

fn main() {
    println!("cargo::rerun-if-changed=web");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let options = grass::Options::default()
        .load_path("web/govuk-frontend")
        .style(grass::OutputStyle::Compressed)
        .quiet(true);
    match grass::from_path("web/bridges.scss", &options) {
        Ok(css) => std::fs::write(out.join("bridges.css"), css).expect("writing the stylesheet"),
        Err(e) => panic!("compiling web/bridges.scss: {e}"),
    }
}
