package quasiroll.sweep.plot;

import java.util.List;

/**
 * A line plot: what is drawn, independent of the output format ({@link PlotRenderer} draws it on a
 * {@link Canvas}: PNG through Java2D, SVG as text).
 *
 * @param logX x axis in log2 scale (k values), ticks at the data's x values
 * @param yMin lower end of the y axis
 * @param yMax upper end of the y axis
 */
public record LinePlot(
    String title,
    String xLabel,
    String yLabel,
    boolean logX,
    double yMin,
    double yMax,
    List<Series> series) {
  public LinePlot {
    series = List.copyOf(series);
  }

  /**
   * One line. {@code lower}/{@code upper} (both or neither) give a shaded confidence band.
   *
   * @param dashed drawn dashed (reference lines such as the union bound)
   */
  public record Series(
      String name, double[] x, double[] y, double[] lower, double[] upper, boolean dashed) {
    public Series {
      if (x.length != y.length
          || (lower == null) != (upper == null)
          || (lower != null && (lower.length != x.length || upper.length != x.length))) {
        throw new IllegalArgumentException("series '" + name + "': x, y and band lengths differ");
      }
    }

    public static Series line(String name, double[] x, double[] y) {
      return new Series(name, x, y, null, null, false);
    }
  }
}
