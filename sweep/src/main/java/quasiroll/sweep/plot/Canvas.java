package quasiroll.sweep.plot;

/** The drawing operations a plot needs; pixel coordinates, origin top-left. Colors are 0xRRGGBB. */
public interface Canvas {
  enum Anchor {
    START,
    MIDDLE,
    END
  }

  void line(double x1, double y1, double x2, double y2, int rgb, double width, boolean dashed);

  void polyline(double[] xs, double[] ys, int rgb, double width, boolean dashed);

  /** A filled polygon with opacity {@code alpha} in [0, 1]. */
  void fill(double[] xs, double[] ys, int rgb, double alpha);

  /** Text with its baseline at y; {@code vertical} rotates it 90 degrees counter-clockwise. */
  void text(double x, double y, String s, double size, Anchor anchor, boolean vertical, int rgb);
}
