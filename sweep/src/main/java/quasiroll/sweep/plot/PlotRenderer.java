package quasiroll.sweep.plot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.TreeSet;
import javax.imageio.ImageIO;

/**
 * Lays out a {@link LinePlot} (axes, ticks, bands, lines, legend) on any {@link Canvas}, so the PNG
 * and the SVG of a plot are the same drawing.
 */
public final class PlotRenderer {
  public static final int WIDTH = 760;
  public static final int HEIGHT = 440;

  /** Colour-blind-safe palette (Okabe and Ito 2008). */
  private static final int[] PALETTE = {
    0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9, 0x000000, 0xF0E442
  };

  private static final int GREY = 0x555555;
  private static final int LIGHT = 0xDDDDDD;
  private static final double LEFT = 64;
  private static final double RIGHT = 200;
  private static final double TOP = 40;
  private static final double BOTTOM = 56;

  private PlotRenderer() {}

  /** Writes {@code base}.png and {@code base}.svg. */
  public static void write(LinePlot plot, Path base) {
    try {
      Java2dCanvas png = new Java2dCanvas(WIDTH, HEIGHT);
      draw(plot, png);
      ImageIO.write(png.image(), "png", base.resolveSibling(base.getFileName() + ".png").toFile());
      SvgCanvas svg = new SvgCanvas(WIDTH, HEIGHT);
      draw(plot, svg);
      Files.writeString(
          base.resolveSibling(base.getFileName() + ".svg"), svg.toSvg(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write plot " + base, e);
    }
  }

  public static void draw(LinePlot plot, Canvas c) {
    double x0 = LEFT;
    double x1 = WIDTH - RIGHT;
    double y0 = HEIGHT - BOTTOM;
    double y1 = TOP;
    TreeSet<Double> xs = new TreeSet<>();
    for (LinePlot.Series s : plot.series()) {
      for (double x : s.x()) {
        xs.add(x);
      }
    }
    double xMin = xs.isEmpty() ? 1 : xs.first();
    double xMax = xs.isEmpty() ? 2 : xs.last();
    if (xMax == xMin) {
      xMax = plot.logX() ? xMin * 2 : xMin + 1;
    }
    final double fxMin = xMin;
    final double fxMax = xMax;
    java.util.function.DoubleUnaryOperator px =
        plot.logX()
            ? x ->
                x0
                    + (Math.log(x) - Math.log(fxMin))
                        / (Math.log(fxMax) - Math.log(fxMin))
                        * (x1 - x0)
            : x -> x0 + (x - fxMin) / (fxMax - fxMin) * (x1 - x0);
    java.util.function.DoubleUnaryOperator py =
        y ->
            y0
                - (clamp(y, plot.yMin(), plot.yMax()) - plot.yMin())
                    / (plot.yMax() - plot.yMin())
                    * (y0 - y1);

    // grid and y ticks
    for (double t : niceTicks(plot.yMin(), plot.yMax())) {
      double y = py.applyAsDouble(t);
      c.line(x0, y, x1, y, LIGHT, 1, false);
      c.text(x0 - 6, y + 4, fmt(t), 11, Canvas.Anchor.END, false, GREY);
    }
    // x ticks at the data's x values
    for (double t : xs) {
      double x = px.applyAsDouble(t);
      c.line(x, y0, x, y0 + 5, GREY, 1, false);
      c.text(x, y0 + 18, fmt(t), 11, Canvas.Anchor.MIDDLE, false, GREY);
    }
    c.line(x0, y0, x1, y0, GREY, 1, false);
    c.line(x0, y0, x0, y1, GREY, 1, false);
    c.text(
        (x0 + x1) / 2,
        HEIGHT - 14,
        plot.xLabel() + (plot.logX() ? " (log scale)" : ""),
        12,
        Canvas.Anchor.MIDDLE,
        false,
        0x222222);
    c.text(16, (y0 + y1) / 2, plot.yLabel(), 12, Canvas.Anchor.MIDDLE, true, 0x222222);
    c.text(x0, 22, plot.title(), 14, Canvas.Anchor.START, false, 0x111111);

    int colour = 0;
    double legendY = TOP + 8;
    for (LinePlot.Series s : plot.series()) {
      int rgb = s.dashed() ? GREY : PALETTE[colour++ % PALETTE.length];
      int n = s.x().length;
      double[] lx = new double[n];
      double[] ly = new double[n];
      for (int i = 0; i < n; i++) {
        lx[i] = px.applyAsDouble(s.x()[i]);
        ly[i] = py.applyAsDouble(s.y()[i]);
      }
      if (s.lower() != null && n > 0) {
        double[] bx = new double[2 * n];
        double[] by = new double[2 * n];
        for (int i = 0; i < n; i++) {
          bx[i] = lx[i];
          by[i] = py.applyAsDouble(s.upper()[i]);
          bx[2 * n - 1 - i] = lx[i];
          by[2 * n - 1 - i] = py.applyAsDouble(s.lower()[i]);
        }
        c.fill(bx, by, rgb, 0.15);
      }
      c.polyline(lx, ly, rgb, s.dashed() ? 1.5 : 2, s.dashed());
      double lgx = x1 + 16;
      c.line(lgx, legendY - 4, lgx + 24, legendY - 4, rgb, 2, s.dashed());
      c.text(lgx + 30, legendY, s.name(), 11, Canvas.Anchor.START, false, 0x222222);
      legendY += 18;
    }
  }

  /** About five round tick values covering [lo, hi]. */
  static double[] niceTicks(double lo, double hi) {
    double raw = (hi - lo) / 5;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = mag;
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * mag >= raw) {
        step = m * mag;
        break;
      }
    }
    int first = (int) Math.ceil(lo / step - 1e-9);
    int last = (int) Math.floor(hi / step + 1e-9);
    double[] t = new double[Math.max(0, last - first + 1)];
    for (int i = 0; i < t.length; i++) {
      t[i] = (first + i) * step;
    }
    return t;
  }

  private static double clamp(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  private static String fmt(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e9) {
      return Long.toString((long) v);
    }
    return String.format(Locale.ROOT, "%.2f", v).replaceAll("0+$", "");
  }
}
