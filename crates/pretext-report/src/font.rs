//! The bundled font. Figures never look up system fonts: DejaVu Sans
//! (`assets/DejaVuSans.ttf`, licence in `assets/LICENSE-DejaVu.txt`) is
//! rendered by `ab_glyph`, so a figure is the same on every machine.
use std::sync::Once;

use plotters::style::FontStyle;

/// The font file, compiled into the binary.
static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The family name figures ask for.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers the bundled font under [`FAMILY`] (once per process).
pub(crate) fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            let registered = plotters::style::register_font(FAMILY, style, DEJAVU_SANS);
            assert!(
                registered.is_ok(),
                "the bundled DejaVu Sans is a valid font"
            );
        }
    });
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::*;

    #[test]
    fn text_renders_with_the_bundled_font() {
        register();
        let (w, h) = (120u32, 40u32);
        let mut buf = vec![255u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
            root.draw_text("Loss 0.5", &(FAMILY, 20).into_font().color(&BLACK), (5, 5))
                .unwrap();
            root.present().unwrap();
        }
        let dark = buf.iter().filter(|&&v| v < 128).count();
        assert!(dark > 50, "text drew {dark} dark channel values");
    }
}
