package quasiroll.sweep.plot;

import java.awt.AlphaComposite;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Line2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;

/** A {@link Canvas} that draws into an image with Java2D (headless), for PNG output. */
public final class Java2dCanvas implements Canvas {
  private final BufferedImage image;
  private final Graphics2D g;

  public Java2dCanvas(int width, int height) {
    image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(
        RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
  }

  @Override
  public void line(
      double x1, double y1, double x2, double y2, int rgb, double width, boolean dashed) {
    stroke(rgb, width, dashed);
    g.draw(new Line2D.Double(x1, y1, x2, y2));
  }

  @Override
  public void polyline(double[] xs, double[] ys, int rgb, double width, boolean dashed) {
    stroke(rgb, width, dashed);
    g.draw(path(xs, ys, false));
  }

  @Override
  public void fill(double[] xs, double[] ys, int rgb, double alpha) {
    var old = g.getComposite();
    g.setComposite(AlphaComposite.getInstance(AlphaComposite.SRC_OVER, (float) alpha));
    g.setColor(new Color(rgb));
    g.fill(path(xs, ys, true));
    g.setComposite(old);
  }

  @Override
  public void text(
      double x, double y, String s, double size, Anchor anchor, boolean vertical, int rgb) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, (int) Math.round(size)));
    g.setColor(new Color(rgb));
    double w = g.getFontMetrics().stringWidth(s);
    double shift =
        switch (anchor) {
          case START -> 0;
          case MIDDLE -> -w / 2;
          case END -> -w;
        };
    AffineTransform old = g.getTransform();
    g.translate(x, y);
    if (vertical) {
      g.rotate(-Math.PI / 2);
    }
    g.drawString(s, (float) shift, 0f);
    g.setTransform(old);
  }

  public BufferedImage image() {
    g.dispose();
    return image;
  }

  private void stroke(int rgb, double width, boolean dashed) {
    g.setColor(new Color(rgb));
    g.setStroke(
        dashed
            ? new BasicStroke(
                (float) width,
                BasicStroke.CAP_BUTT,
                BasicStroke.JOIN_ROUND,
                10f,
                new float[] {6f, 4f},
                0f)
            : new BasicStroke((float) width, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
  }

  private static Path2D path(double[] xs, double[] ys, boolean close) {
    Path2D.Double p = new Path2D.Double();
    for (int i = 0; i < xs.length; i++) {
      if (i == 0) {
        p.moveTo(xs[i], ys[i]);
      } else {
        p.lineTo(xs[i], ys[i]);
      }
    }
    if (close) {
      p.closePath();
    }
    return p;
  }
}
