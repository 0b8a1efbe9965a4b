package quasiroll.sweep.plot;

import java.util.Locale;

/** A {@link Canvas} that writes SVG 1.1 markup. */
public final class SvgCanvas implements Canvas {
  private final StringBuilder body = new StringBuilder();
  private final int width;
  private final int height;

  public SvgCanvas(int width, int height) {
    this.width = width;
    this.height = height;
  }

  @Override
  public void line(double x1, double y1, double x2, double y2, int rgb, double w, boolean dashed) {
    body.append(
        f(
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\""
                + " stroke-width=\"%.1f\"%s/>%n",
            x1, y1, x2, y2, color(rgb), w, dash(dashed)));
  }

  @Override
  public void polyline(double[] xs, double[] ys, int rgb, double w, boolean dashed) {
    body.append(
        f(
            "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"%s points=\"%s\"/>%n",
            color(rgb), w, dash(dashed), points(xs, ys)));
  }

  @Override
  public void fill(double[] xs, double[] ys, int rgb, double alpha) {
    body.append(
        f(
            "<polygon fill=\"%s\" fill-opacity=\"%.2f\" stroke=\"none\" points=\"%s\"/>%n",
            color(rgb), alpha, points(xs, ys)));
  }

  @Override
  public void text(
      double x, double y, String s, double size, Anchor anchor, boolean vertical, int rgb) {
    String a =
        switch (anchor) {
          case START -> "start";
          case MIDDLE -> "middle";
          case END -> "end";
        };
    String rot = vertical ? f(" transform=\"rotate(-90 %.1f %.1f)\"", x, y) : "";
    body.append(
        f(
            "<text x=\"%.1f\" y=\"%.1f\" font-family=\"sans-serif\" font-size=\"%.1f\""
                + " text-anchor=\"%s\" fill=\"%s\"%s>%s</text>%n",
            x, y, size, a, color(rgb), rot, escape(s)));
  }

  /** The finished document. */
  public String toSvg() {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        + f(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d"
                + " %d\">%n",
            width, height, width, height)
        + f("<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height)
        + body
        + "</svg>\n";
  }

  private static String points(double[] xs, double[] ys) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < xs.length; i++) {
      b.append(f("%.1f,%.1f ", xs[i], ys[i]));
    }
    return b.toString().trim();
  }

  private static String dash(boolean dashed) {
    return dashed ? " stroke-dasharray=\"6 4\"" : "";
  }

  private static String color(int rgb) {
    return String.format(Locale.ROOT, "#%06x", rgb & 0xFFFFFF);
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }

  private static String f(String fmt, Object... args) {
    return String.format(Locale.ROOT, fmt, args);
  }
}
