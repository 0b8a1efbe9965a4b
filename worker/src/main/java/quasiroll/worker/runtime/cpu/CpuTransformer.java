package quasiroll.worker.runtime.cpu;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.runtime.transformer.TransformerWeights;

/**
 * The Llama/Qwen2 decoder forward pass on CPU for a batch of rows, where a row is one token of one
 * sequence at one position: a prefill chunk is many rows of the same sequence, a decode step one
 * row per sequence. Every row's arithmetic is the same whatever the other rows are: matrix products
 * are per (output element, row) with a fixed summation order, attention is per (row, head) over
 * that row's own cache segments.
 */
final class CpuTransformer {
  private static final int L = VectorKernels.L;
  private final ModelConfig c;
  private final double[] inverseFrequencies;
  private final WeightMatrix embedding;
  private final WeightMatrix lmHead;
  private final float[] finalNorm;
  private final Layer[] layers;
  private final WorkerPool pool;
  private final int qDim;
  private final int kvDim;

  private record Layer(
      float[] attentionNorm,
      WeightMatrix q,
      WeightMatrix k,
      WeightMatrix v,
      float[] qBias,
      float[] kBias,
      float[] vBias,
      WeightMatrix o,
      float[] mlpNorm,
      WeightMatrix gate,
      WeightMatrix up,
      WeightMatrix down) {}

  /**
   * @param inverseFrequencies headDim/2 RoPE inverse frequencies, scaling included (from {@link
   *     quasiroll.worker.model.LoadedModel#ropeInverseFrequencies()})
   */
  CpuTransformer(
      ModelConfig c, TransformerWeights w, double[] inverseFrequencies, WorkerPool pool) {
    if (inverseFrequencies.length != c.headDim() / 2) {
      throw new IllegalArgumentException(
          "need headDim/2 = "
              + c.headDim() / 2
              + " RoPE inverse frequencies, got "
              + inverseFrequencies.length);
    }
    this.c = c;
    this.pool = pool;
    this.inverseFrequencies = inverseFrequencies.clone();
    this.qDim = c.numHeads() * c.headDim();
    this.kvDim = c.numKvHeads() * c.headDim();
    this.embedding = WeightMatrix.of(w.embedding());
    this.lmHead = w.lmHead() == w.embedding() ? embedding : WeightMatrix.of(w.lmHead());
    this.finalNorm = WeightMatrix.of(w.finalNorm()).toFloats();
    List<TransformerWeights.Layer> ls = w.layers();
    this.layers = new Layer[ls.size()];
    for (int i = 0; i < layers.length; i++) {
      TransformerWeights.Layer l = ls.get(i);
      layers[i] =
          new Layer(
              WeightMatrix.of(l.attentionNorm()).toFloats(),
              WeightMatrix.of(l.q()),
              WeightMatrix.of(l.k()),
              WeightMatrix.of(l.v()),
              l.qBias() == null ? null : WeightMatrix.of(l.qBias()).toFloats(),
              l.kBias() == null ? null : WeightMatrix.of(l.kBias()).toFloats(),
              l.vBias() == null ? null : WeightMatrix.of(l.vBias()).toFloats(),
              WeightMatrix.of(l.o()),
              WeightMatrix.of(l.mlpNorm()).toFloats(),
              WeightMatrix.of(l.gate()),
              WeightMatrix.of(l.up()),
              WeightMatrix.of(l.down()));
    }
  }

  ModelConfig config() {
    return c;
  }

  int kvDim() {
    return kvDim;
  }

  /**
   * Runs rows 0..n-1: row r appends {@code tokens[r]} at {@code positions[r]} to the sequence whose
   * cache is {@code segments[r]} (ordered by start; the position lies in the last one and is
   * written there) and attends to all of that sequence's positions up to its own. Writes next-token
   * logits of rows logitsFrom..n-1 to {@code logits[(r - logitsFrom) * vocab ..]}.
   */
  void forward(
      int n,
      int[] tokens,
      int[] positions,
      KvSegment[][] segments,
      float[] logits,
      int logitsFrom) {
    int h = c.hiddenSize();
    int half = c.headDim() / 2;
    float[] x = new float[n * h];
    for (int r = 0; r < n; r++) {
      embedding.decodeRows(tokens[r], 1, x, r * h);
    }
    float[] cos = new float[n * half];
    float[] sin = new float[n * half];
    float[] rc = new float[half];
    float[] rs = new float[half];
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < half; i++) {
        double angle = positions[r] * inverseFrequencies[i];
        rc[i] = (float) Math.cos(angle);
        rs[i] = (float) Math.sin(angle);
      }
      System.arraycopy(rc, 0, cos, r * half, half);
      System.arraycopy(rs, 0, sin, r * half, half);
    }
    float[] xn = new float[n * h];
    float[] q = new float[n * qDim];
    float[] k = new float[n * kvDim];
    float[] v = new float[n * kvDim];
    float[] att = new float[n * qDim];
    float[] proj = new float[n * h];
    int inter = c.intermediateSize();
    float[] gate = new float[n * inter];
    float[] up = new float[n * inter];
    // Large batches: the products' inputs also in the transposed layout of TiledProduct, written
    // by the row-parallel steps that produce them.
    boolean tiled = n >= TiledProduct.MIN_BATCH;
    int blocks = TiledProduct.blocks(n);
    float[] xnT = tiled ? new float[blocks * h * L] : null;
    float[] attT = tiled ? new float[blocks * qDim * L] : null;
    float[] gateT = tiled ? new float[blocks * inter * L] : null;
    for (int li = 0; li < layers.length; li++) {
      Layer l = layers[li];
      boolean residual = li > 0;
      // x += the previous layer's MLP output; xn = norm(x).
      rowBlocks(
          n,
          3L * h,
          (r0, r1, s) -> {
            if (residual) {
              add(x, proj, r0 * h, r1 * h);
            }
            rmsNorm(x, l.attentionNorm, xn, r0, r1, s.lanes);
            if (xnT != null) {
              TiledProduct.transposeRows(xn, h, r0, r1, 0, h, xnT);
            }
          });
      Matmul.run(
          pool,
          new Matmul.Product(l.q, xn, xnT, n, q),
          new Matmul.Product(l.k, xn, xnT, n, k),
          new Matmul.Product(l.v, xn, xnT, n, v));
      for (int r = 0; r < n; r++) {
        KvSegment seg = segments[r][segments[r].length - 1];
        int slot = positions[r] - seg.start;
        if (slot < 0 || slot >= seg.capacity) {
          throw new IllegalStateException(
              "position "
                  + positions[r]
                  + " outside cache segment ["
                  + seg.start
                  + ", "
                  + (seg.start + seg.capacity)
                  + ")");
        }
      }
      // Biases, RoPE and the cache writes, row by row (each row writes its own cache slot).
      int layerIndex = li;
      rowBlocks(
          n,
          4L * (qDim + kvDim),
          (r0, r1, s) -> {
            addBias(q, l.qBias, r0, r1);
            addBias(k, l.kBias, r0, r1);
            addBias(v, l.vBias, r0, r1);
            for (int r = r0; r < r1; r++) {
              for (int hh = 0; hh < c.numHeads(); hh++) {
                rotate(q, r * qDim + hh * c.headDim(), cos, sin, r * half);
              }
              for (int hh = 0; hh < c.numKvHeads(); hh++) {
                rotate(k, r * kvDim + hh * c.headDim(), cos, sin, r * half);
              }
              KvSegment seg = segments[r][segments[r].length - 1];
              int slot = positions[r] - seg.start;
              seg.putKey(layerIndex, slot, k, r * kvDim);
              System.arraycopy(v, r * kvDim, seg.values[layerIndex], slot * kvDim, kvDim);
            }
          });
      for (int r = 0; r < n; r++) {
        KvSegment seg = segments[r][segments[r].length - 1];
        seg.length = Math.max(seg.length, positions[r] - seg.start + 1);
      }
      int layer = li;
      long attentionWork = 0;
      for (int r = 0; r < n; r++) {
        attentionWork += 2L * (positions[r] + 1) * qDim;
      }
      // One task per (row, head); for large batches per (block of L rows, KV head): a row's query
      // heads that share a KV head run one after the other, reading its keys and values from
      // cache, and the block's outputs are then transposed too.
      int hd = c.headDim();
      int group = tiled ? c.numHeads() / c.numKvHeads() : 1;
      int units = c.numHeads() / group;
      int rowsPerTask = tiled ? L : 1;
      pool.run(
          (n + rowsPerTask - 1) / rowsPerTask * units,
          attentionWork,
          (task, s) -> {
            int head0 = (task % units) * group;
            int r0 = (task / units) * rowsPerTask;
            int r1 = Math.min(n, r0 + rowsPerTask);
            for (int r = r0; r < r1; r++) {
              for (int head = head0; head < head0 + group; head++) {
                attend(layer, r, head, q, positions, segments, att, s);
              }
            }
            if (attT != null) {
              TiledProduct.transposeRows(att, qDim, r0, r1, head0 * hd, (head0 + group) * hd, attT);
            }
          });
      Matmul.run(pool, new Matmul.Product(l.o, att, attT, n, proj));
      // x += attention output; xn = norm(x).
      rowBlocks(
          n,
          3L * h,
          (r0, r1, s) -> {
            add(x, proj, r0 * h, r1 * h);
            rmsNorm(x, l.mlpNorm, xn, r0, r1, s.lanes);
            if (xnT != null) {
              TiledProduct.transposeRows(xn, h, r0, r1, 0, h, xnT);
            }
          });
      Matmul.run(
          pool,
          new Matmul.Product(l.gate, xn, xnT, n, gate),
          new Matmul.Product(l.up, xn, xnT, n, up));
      rowBlocks(
          n,
          20L * inter,
          (r0, r1, s) -> {
            // (float) (g / (1.0 + Math.exp(-g))) * up, vectorised bit for bit.
            ExactExp.siluTimes(gate, up, r0 * inter, r1 * inter);
            if (gateT != null) {
              TiledProduct.transposeRows(gate, inter, r0, r1, 0, inter, gateT);
            }
          });
      Matmul.run(pool, new Matmul.Product(l.down, gate, gateT, n, proj));
    }
    int m = n - logitsFrom;
    if (layers.length > 0) {
      add(x, proj, logitsFrom * h, n * h);
    }
    if (m > 0) {
      float[] last = new float[m * h];
      System.arraycopy(x, logitsFrom * h, last, 0, m * h);
      float[] normed = new float[m * h];
      float[] normedT =
          m >= TiledProduct.MIN_BATCH ? new float[TiledProduct.blocks(m) * h * L] : null;
      rowBlocks(
          m,
          3L * h,
          (r0, r1, s) -> {
            rmsNorm(last, finalNorm, normed, r0, r1, s.lanes);
            if (normedT != null) {
              TiledProduct.transposeRows(normed, h, r0, r1, 0, h, normedT);
            }
          });
      Matmul.run(pool, new Matmul.Product(lmHead, normed, normedT, m, logits));
    }
  }

  /** A step over rows [r0, r1) (within one block of L rows), independent of other rows. */
  private interface RowBlock {
    void run(int r0, int r1, WorkerScratch s);
  }

  /**
   * Runs body over rows 0..n-1 in blocks of L rows, in parallel; each row's arithmetic is the same
   * whichever thread or block computes it. {@code workPerRow}: rough cost, for the pool's decision
   * to go parallel.
   */
  private void rowBlocks(int n, long workPerRow, RowBlock body) {
    pool.run(
        (n + L - 1) / L,
        n * workPerRow,
        (task, s) -> body.run(task * L, Math.min(n, task * L + L), s));
  }

  /** Attention of one head of one row over its sequence's positions 0..positions[r]. */
  private void attend(
      int li,
      int r,
      int head,
      float[] q,
      int[] positions,
      KvSegment[][] segments,
      float[] att,
      WorkerScratch s) {
    int hd = c.headDim();
    int qo = r * qDim + head * hd;
    int kvo = (head / (c.numHeads() / c.numKvHeads())) * hd;
    int last = positions[r];
    // Room for a whole block of L lanes past the last score.
    float[] scores = s.scores(last + 1 + L);
    float scale = (float) (1.0 / Math.sqrt(hd));
    var f = VectorKernels.F;
    int upper = hd - hd % L;
    // Scores of L positions at a time, positions in the lanes (keys are stored transposed by
    // blocks of L slots, KvSegment): lane p performs VectorKernels.dot(q, key of p) exactly (the
    // fused multiply-adds of partial j over dimensions j, j + L, ..., the partials added to 0 in
    // order, then the tail), so each score is what the per-position kernel computes.
    int t = 0;
    for (KvSegment seg : segments[r]) {
      int count = Math.min(seg.length, last + 1 - seg.start);
      float[] keys = seg.keys[li];
      for (int b0 = 0; b0 < count; b0 += L) {
        int w = seg.keyWidth(b0);
        int base = seg.keyBase(b0) + kvo * w;
        FloatVector sum;
        if (w == L) {
          sum = FloatVector.zero(f);
          for (int j = 0; j < L; j++) {
            FloatVector a = FloatVector.zero(f);
            for (int i = j; i < upper; i += L) {
              a =
                  FloatVector.broadcast(f, q[qo + i])
                      .fma(FloatVector.fromArray(f, keys, base + i * L), a);
            }
            sum = sum.add(a);
          }
          for (int i = upper; i < hd; i++) {
            sum =
                FloatVector.broadcast(f, q[qo + i])
                    .fma(FloatVector.fromArray(f, keys, base + i * L), sum);
          }
        } else {
          VectorMask<Float> m = f.indexInRange(0, w);
          sum = FloatVector.zero(f);
          for (int j = 0; j < L; j++) {
            FloatVector a = FloatVector.zero(f);
            for (int i = j; i < upper; i += L) {
              a =
                  FloatVector.broadcast(f, q[qo + i])
                      .fma(FloatVector.fromArray(f, keys, base + i * w, m), a);
            }
            sum = sum.add(a);
          }
          for (int i = upper; i < hd; i++) {
            sum =
                FloatVector.broadcast(f, q[qo + i])
                    .fma(FloatVector.fromArray(f, keys, base + i * w, m), sum);
          }
        }
        sum.mul(scale).intoArray(scores, t);
        t += Math.min(L, count - b0);
      }
    }
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < t; i++) {
      max = Math.max(max, scores[i]);
    }
    float total = 0f;
    // scores[i] = (float) Math.exp(scores[i] - max), vectorised bit for bit.
    ExactExp.expShifted(scores, 0, t, max);
    for (int i = 0; i < t; i++) {
      total += scores[i];
    }
    for (int i = 0; i < t; i++) {
      scores[i] = scores[i] / total;
    }
    // att = sum over positions of weight * value, in position order (VectorKernels.axpy's
    // operations from 0), accumulated in registers per chunk of L dimensions.
    int ao = r * qDim + head * hd;
    int d0 = 0;
    for (; d0 + 2 * L <= upper; d0 += 2 * L) {
      // Two chunks at once: independent chains, one value row load pair per position.
      FloatVector acc0 = FloatVector.zero(f);
      FloatVector acc1 = acc0;
      t = 0;
      for (KvSegment seg : segments[r]) {
        int count = Math.min(seg.length, last + 1 - seg.start);
        float[] values = seg.values[li];
        for (int j = 0; j < count; j++) {
          FloatVector p = FloatVector.broadcast(f, scores[t++]);
          int vo = j * kvDim + kvo + d0;
          acc0 = FloatVector.fromArray(f, values, vo).fma(p, acc0);
          acc1 = FloatVector.fromArray(f, values, vo + L).fma(p, acc1);
        }
      }
      acc0.intoArray(att, ao + d0);
      acc1.intoArray(att, ao + d0 + L);
    }
    for (; d0 < upper; d0 += L) {
      FloatVector acc = FloatVector.zero(f);
      t = 0;
      for (KvSegment seg : segments[r]) {
        int count = Math.min(seg.length, last + 1 - seg.start);
        float[] values = seg.values[li];
        for (int j = 0; j < count; j++) {
          acc =
              FloatVector.fromArray(f, values, j * kvDim + kvo + d0)
                  .fma(FloatVector.broadcast(f, scores[t++]), acc);
        }
      }
      acc.intoArray(att, ao + d0);
    }
    for (int d = upper; d < hd; d++) {
      float acc = 0f;
      t = 0;
      for (KvSegment seg : segments[r]) {
        int count = Math.min(seg.length, last + 1 - seg.start);
        float[] values = seg.values[li];
        for (int j = 0; j < count; j++) {
          acc = Math.fma(values[j * kvDim + kvo + d], scores[t++], acc);
        }
      }
      att[ao + d] = acc;
    }
  }

  /**
   * Half-split ("neox") rotary embedding, HF's {@code q * cos + rotate_half(q) * sin}: x[i] and x[i
   * + d/2] rotate together. Loaders hand every model over in this layout (GGUF Llama q/k rows are
   * un-permuted on load).
   */
  private void rotate(float[] vec, int off, float[] cos, float[] sin, int co) {
    int half = c.headDim() / 2;
    for (int i = 0; i < half; i++) {
      float a = vec[off + i];
      float b = vec[off + i + half];
      vec[off + i] = a * cos[co + i] - b * sin[co + i];
      vec[off + i + half] = b * cos[co + i] + a * sin[co + i];
    }
  }

  /** out = x / sqrt(mean(x^2) + eps) * weight, per row (HF LlamaRMSNorm in f32). */
  private void rmsNorm(float[] x, float[] weight, float[] out, int r0, int r1, float[] lanes) {
    int h = c.hiddenSize();
    for (int r = r0; r < r1; r++) {
      int o = r * h;
      float ss = VectorKernels.dot(x, o, x, o, h, lanes);
      float inv = (float) (1.0 / Math.sqrt(ss / h + c.rmsNormEps()));
      for (int i = 0; i < h; i++) {
        out[o + i] = weight[i] * (x[o + i] * inv);
      }
    }
  }

  /** Adds bias to rows [r0, r1) of y (rows of bias.length). */
  private static void addBias(float[] y, float[] bias, int r0, int r1) {
    if (bias == null) {
      return;
    }
    for (int r = r0; r < r1; r++) {
      int o = r * bias.length;
      for (int i = 0; i < bias.length; i++) {
        y[o + i] += bias[i];
      }
    }
  }

  /** x[i] += y[i] for i in [from, to). */
  private static void add(float[] x, float[] y, int from, int to) {
    for (int i = from; i < to; i++) {
      x[i] += y[i];
    }
  }
}
