package quasiroll.worker.model;

import java.nio.ByteBuffer;

/**
 * ggml's K-quant super-block layouts (QK_K = 256), their decoding and their reference quantizers,
 * written from ggml-quants.c ({@code quantize_row_q4_K_ref} with {@code make_qkx2_quants}, {@code
 * quantize_row_q6_K_ref} with {@code make_qx_quants}, {@code dequantize_row_q4_K}, {@code
 * dequantize_row_q6_K}): what {@link #quantizeQ4K} writes is what llama.cpp's own quantizer writes
 * for the same floats without an importance matrix.
 *
 * <ul>
 *   <li>Q4_K, 144 bytes: f16 d, f16 dmin, 12 bytes holding eight 6-bit scales sc[j] and eight 6-bit
 *       mins m[j] (j < 4: sc = b[j] & 63, m = b[j+4] & 63; j >= 4: sc = (b[j+4] & 15) | (b[j-4] >>
 *       6) << 4, m = (b[j+4] >> 4) | (b[j] >> 6) << 4), then 128 bytes: for each 64-value chunk c,
 *       32 bytes whose low nibbles are values 64c..64c+31 (sub-block 2c) and high nibbles values
 *       64c+32..64c+63 (sub-block 2c+1); value = d*sc[j]*q - dmin*m[j].
 *   <li>Q6_K, 210 bytes: ql[128], qh[64], int8 scales[16], f16 d. For each half h of 128 values and
 *       l < 32: q1 = (ql[64h+l] & 15 | (qh[32h+l] & 3) << 4) - 32 is value 128h+l, q2 (ql[64h
 *       +l+32] low, qh bits 2-3) value 128h+32+l, q3 (ql[64h+l] high, bits 4-5) value 128h+64+l, q4
 *       (ql[64h+l+32] high, bits 6-7) value 128h+96+l; value = d * scales[v / 16] * q.
 * </ul>
 */
public final class KQuants {
  public static final int QK = 256;
  public static final int Q4K_BYTES = 144;
  public static final int Q6K_BYTES = 210;

  private KQuants() {}

  /** ggml's nearest_int: round half to even for |x| < 2^22. */
  static int nearestInt(float x) {
    return (int) Math.rint(x);
  }

  /** The 6-bit scale (index 0) and min (index 1) of sub-block j from the 12 scale bytes at off. */
  public static int scaleK4(ByteBuffer b, int off, int j) {
    return j < 4
        ? (b.get(off + j) & 63)
        : ((b.get(off + j + 4) & 0xf) | (((b.get(off + j - 4) & 0xff) >> 6) << 4));
  }

  public static int minK4(ByteBuffer b, int off, int j) {
    return j < 4
        ? (b.get(off + j + 4) & 63)
        : (((b.get(off + j + 4) & 0xff) >> 4) | (((b.get(off + j) & 0xff) >> 6) << 4));
  }

  static void decodeQ4K(ByteBuffer b, float[] out, int n) {
    for (int blk = 0; blk < n / QK; blk++) {
      int base = blk * Q4K_BYTES;
      float d = HalfFloats.f16ToFloat(b.getShort(base));
      float min = HalfFloats.f16ToFloat(b.getShort(base + 2));
      int o = blk * QK;
      for (int c = 0; c < 4; c++) {
        float d1 = d * scaleK4(b, base + 4, 2 * c);
        float m1 = min * minK4(b, base + 4, 2 * c);
        float d2 = d * scaleK4(b, base + 4, 2 * c + 1);
        float m2 = min * minK4(b, base + 4, 2 * c + 1);
        for (int l = 0; l < 32; l++) {
          int q = b.get(base + 16 + 32 * c + l) & 0xff;
          out[o + 64 * c + l] = d1 * (q & 0xf) - m1;
          out[o + 64 * c + 32 + l] = d2 * (q >> 4) - m2;
        }
      }
    }
  }

  static void decodeQ6K(ByteBuffer b, float[] out, int n) {
    for (int blk = 0; blk < n / QK; blk++) {
      int base = blk * Q6K_BYTES;
      float d = HalfFloats.f16ToFloat(b.getShort(base + 208));
      int o = blk * QK;
      for (int h = 0; h < 2; h++) {
        int ql = base + 64 * h;
        int qh = base + 128 + 32 * h;
        int sc = base + 192 + 8 * h;
        for (int l = 0; l < 32; l++) {
          int is = l / 16;
          int lo0 = b.get(ql + l) & 0xff;
          int lo1 = b.get(ql + l + 32) & 0xff;
          int hi = b.get(qh + l) & 0xff;
          int q1 = ((lo0 & 0xf) | ((hi & 3) << 4)) - 32;
          int q2 = ((lo1 & 0xf) | (((hi >> 2) & 3) << 4)) - 32;
          int q3 = ((lo0 >> 4) | (((hi >> 4) & 3) << 4)) - 32;
          int q4 = ((lo1 >> 4) | (((hi >> 6) & 3) << 4)) - 32;
          out[o + 128 * h + l] = d * b.get(sc + is) * q1;
          out[o + 128 * h + l + 32] = d * b.get(sc + is + 2) * q2;
          out[o + 128 * h + l + 64] = d * b.get(sc + is + 4) * q3;
          out[o + 128 * h + l + 96] = d * b.get(sc + is + 6) * q4;
        }
      }
    }
  }

  /** ggml quantize_row_q4_K_ref: per sub-block of 32 a weighted min/scale search, then 6-bit. */
  static void quantizeQ4K(float[] x, ByteBuffer out) {
    byte[] l = new byte[QK];
    byte[] laux = new byte[32];
    float[] w = new float[32];
    float[] mins = new float[8];
    float[] scales = new float[8];
    float[] theMin = new float[1];
    for (int blk = 0; blk < x.length / QK; blk++) {
      int xo = blk * QK;
      float maxScale = 0;
      float maxMin = 0;
      for (int j = 0; j < 8; j++) {
        float sumX2 = 0;
        for (int i = 0; i < 32; i++) {
          sumX2 += x[xo + 32 * j + i] * x[xo + 32 * j + i];
        }
        float avX = (float) Math.sqrt(sumX2 / 32);
        for (int i = 0; i < 32; i++) {
          w[i] = avX + Math.abs(x[xo + 32 * j + i]);
        }
        scales[j] = makeQkx2(32, 15, x, xo + 32 * j, w, l, 32 * j, theMin, laux, -1f, 0.1f, 20);
        mins[j] = theMin[0];
        maxScale = Math.max(maxScale, scales[j]);
        maxMin = Math.max(maxMin, mins[j]);
      }
      float invScale = maxScale > 0 ? 63f / maxScale : 0f;
      float invMin = maxMin > 0 ? 63f / maxMin : 0f;
      byte[] sb = new byte[12];
      for (int j = 0; j < 8; j++) {
        int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xff);
        int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xff);
        if (j < 4) {
          sb[j] = (byte) ls;
          sb[j + 4] = (byte) lm;
        } else {
          sb[j + 4] = (byte) ((ls & 0xf) | ((lm & 0xf) << 4));
          sb[j - 4] |= (byte) ((ls >> 4) << 6);
          sb[j] |= (byte) ((lm >> 4) << 6);
        }
      }
      short dBits = HalfFloats.floatToF16(maxScale / 63f);
      short mBits = HalfFloats.floatToF16(maxMin / 63f);
      ByteBuffer sbb = ByteBuffer.wrap(sb);
      for (int j = 0; j < 8; j++) {
        float d = HalfFloats.f16ToFloat(dBits) * scaleK4(sbb, 0, j);
        if (d == 0f) {
          continue;
        }
        float dm = HalfFloats.f16ToFloat(mBits) * minK4(sbb, 0, j);
        for (int i = 0; i < 32; i++) {
          int q = nearestInt((x[xo + 32 * j + i] + dm) / d);
          l[32 * j + i] = (byte) Math.max(0, Math.min(15, q));
        }
      }
      out.putShort(dBits).putShort(mBits).put(sb);
      for (int c = 0; c < 4; c++) {
        for (int i = 0; i < 32; i++) {
          out.put((byte) (l[64 * c + i] | (l[64 * c + 32 + i] << 4)));
        }
      }
    }
  }

  /**
   * ggml make_qkx2_quants: levels L in [0, nmax] and a scale/min pair (min returned negated in
   * theMin[0]) minimising the weighted squared error over nstep+1 candidate scales.
   */
  private static float makeQkx2(
      int n,
      int nmax,
      float[] x,
      int xo,
      float[] w,
      byte[] l,
      int lo,
      float[] theMin,
      byte[] laux,
      float rmin,
      float rdelta,
      int nstep) {
    float min = x[xo];
    float max = x[xo];
    float sumW = w[0];
    float sumX = sumW * x[xo];
    for (int i = 1; i < n; i++) {
      min = Math.min(min, x[xo + i]);
      max = Math.max(max, x[xo + i]);
      sumW += w[i];
      sumX += w[i] * x[xo + i];
    }
    if (min > 0) {
      min = 0;
    }
    if (max == min) {
      for (int i = 0; i < n; i++) {
        l[lo + i] = 0;
      }
      theMin[0] = -min;
      return 0f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float bestMad = 0;
    for (int i = 0; i < n; i++) {
      int q = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
      l[lo + i] = (byte) q;
      float diff = scale * q + min - x[xo + i];
      bestMad += w[i] * (diff * diff);
    }
    for (int is = 0; is <= nstep; is++) {
      iscale = (rmin + rdelta * is + nmax) / (max - min);
      float sumL = 0;
      float sumL2 = 0;
      float sumXl = 0;
      for (int i = 0; i < n; i++) {
        int q = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xo + i] - min))));
        laux[i] = (byte) q;
        sumL += w[i] * q;
        sumL2 += w[i] * q * q;
        sumXl += w[i] * q * x[xo + i];
      }
      float det = sumW * sumL2 - sumL * sumL;
      if (det > 0) {
        float thisScale = (sumW * sumXl - sumX * sumL) / det;
        float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
        if (thisMin > 0) {
          thisMin = 0;
          thisScale = sumXl / sumL2;
        }
        float mad = 0;
        for (int i = 0; i < n; i++) {
          float diff = thisScale * laux[i] + thisMin - x[xo + i];
          mad += w[i] * (diff * diff);
        }
        if (mad < bestMad) {
          System.arraycopy(laux, 0, l, lo, n);
          bestMad = mad;
          scale = thisScale;
          min = thisMin;
        }
      }
    }
    theMin[0] = -min;
    return scale;
  }

  /** ggml quantize_row_q6_K_ref: per sub-block of 16 a signed scale search, then int8 scales. */
  static void quantizeQ6K(float[] x, ByteBuffer out) {
    byte[] l = new byte[QK];
    float[] scales = new float[16];
    for (int blk = 0; blk < x.length / QK; blk++) {
      int xo = blk * QK;
      float maxScale = 0;
      float maxAbsScale = 0;
      for (int ib = 0; ib < 16; ib++) {
        float scale = makeQx(16, 32, x, xo + 16 * ib, l, 16 * ib);
        scales[ib] = scale;
        if (Math.abs(scale) > maxAbsScale) {
          maxAbsScale = Math.abs(scale);
          maxScale = scale;
        }
      }
      byte[] ql = new byte[128];
      byte[] qh = new byte[64];
      byte[] sc = new byte[16];
      short dBits = 0;
      if (maxAbsScale != 0) {
        float iscale = -128f / maxScale;
        dBits = HalfFloats.floatToF16(1 / iscale);
        for (int ib = 0; ib < 16; ib++) {
          sc[ib] = (byte) Math.min(127, nearestInt(iscale * scales[ib]));
        }
        for (int j = 0; j < 16; j++) {
          float d = HalfFloats.f16ToFloat(dBits) * sc[j];
          if (d == 0f) {
            continue;
          }
          for (int i = 0; i < 16; i++) {
            int q = nearestInt(x[xo + 16 * j + i] / d);
            l[16 * j + i] = (byte) (Math.max(-32, Math.min(31, q)) + 32);
          }
        }
        for (int h = 0; h < 2; h++) {
          int j = 128 * h;
          for (int i = 0; i < 32; i++) {
            int q1 = l[j + i] & 0xf;
            int q2 = l[j + i + 32] & 0xf;
            int q3 = l[j + i + 64] & 0xf;
            int q4 = l[j + i + 96] & 0xf;
            ql[64 * h + i] = (byte) (q1 | (q3 << 4));
            ql[64 * h + i + 32] = (byte) (q2 | (q4 << 4));
            qh[32 * h + i] =
                (byte)
                    ((l[j + i] >> 4)
                        | ((l[j + i + 32] >> 4) << 2)
                        | ((l[j + i + 64] >> 4) << 4)
                        | ((l[j + i + 96] >> 4) << 6));
          }
        }
      }
      out.put(ql).put(qh).put(sc).putShort(dBits);
    }
  }

  /**
   * ggml make_qx_quants with rmse_type 1 and no importance weights (weights x^2): levels L in [0, 2
   * nmax) (stored with +nmax) and the scale of the best of 19 candidate scales.
   */
  private static float makeQx(int n, int nmax, float[] x, int xo, byte[] l, int lo) {
    float max = 0;
    float amax = 0;
    for (int i = 0; i < n; i++) {
      float ax = Math.abs(x[xo + i]);
      if (ax > amax) {
        amax = ax;
        max = x[xo + i];
      }
    }
    if (amax < 1e-30f) {
      for (int i = 0; i < n; i++) {
        l[lo + i] = 0;
      }
      return 0f;
    }
    float iscale = -nmax / max;
    float sumlx = 0;
    float suml2 = 0;
    for (int i = 0; i < n; i++) {
      int q = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
      l[lo + i] = (byte) (q + nmax);
      float w = x[xo + i] * x[xo + i];
      sumlx += w * x[xo + i] * q;
      suml2 += w * q * q;
    }
    float scale = sumlx / suml2;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
      if (is == 0) {
        continue;
      }
      iscale = -(nmax + 0.1f * is) / max;
      sumlx = 0;
      suml2 = 0;
      for (int i = 0; i < n; i++) {
        int q = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
        float w = x[xo + i] * x[xo + i];
        sumlx += w * x[xo + i] * q;
        suml2 += w * q * q;
      }
      if (suml2 > 0 && sumlx * sumlx > best * suml2) {
        for (int i = 0; i < n; i++) {
          int q = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * x[xo + i])));
          l[lo + i] = (byte) (nmax + q);
        }
        scale = sumlx / suml2;
        best = scale * sumlx;
      }
    }
    return scale;
  }
}
