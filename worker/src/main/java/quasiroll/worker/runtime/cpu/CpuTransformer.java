package quasiroll.worker.runtime.cpu;

import java.util.List;
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
    float[] gate = new float[n * c.intermediateSize()];
    float[] up = new float[n * c.intermediateSize()];
    float[] lanes = new float[VectorKernels.L];
    for (int li = 0; li < layers.length; li++) {
      Layer l = layers[li];
      rmsNorm(x, l.attentionNorm, xn, n, lanes);
      Matmul.run(
          pool,
          new Matmul.Product(l.q, xn, n, q),
          new Matmul.Product(l.k, xn, n, k),
          new Matmul.Product(l.v, xn, n, v));
      addBias(q, l.qBias, n);
      addBias(k, l.kBias, n);
      addBias(v, l.vBias, n);
      for (int r = 0; r < n; r++) {
        for (int hh = 0; hh < c.numHeads(); hh++) {
          rotate(q, r * qDim + hh * c.headDim(), cos, sin, r * half);
        }
        for (int hh = 0; hh < c.numKvHeads(); hh++) {
          rotate(k, r * kvDim + hh * c.headDim(), cos, sin, r * half);
        }
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
        System.arraycopy(k, r * kvDim, seg.keys[li], slot * kvDim, kvDim);
        System.arraycopy(v, r * kvDim, seg.values[li], slot * kvDim, kvDim);
        seg.length = Math.max(seg.length, slot + 1);
      }
      int layer = li;
      long attentionWork = 0;
      for (int r = 0; r < n; r++) {
        attentionWork += 2L * (positions[r] + 1) * qDim;
      }
      pool.run(
          n * c.numHeads(),
          attentionWork,
          (task, s) ->
              attend(
                  layer, task / c.numHeads(), task % c.numHeads(), q, positions, segments, att, s));
      Matmul.run(pool, new Matmul.Product(l.o, att, n, proj));
      add(x, proj);
      rmsNorm(x, l.mlpNorm, xn, n, lanes);
      Matmul.run(
          pool, new Matmul.Product(l.gate, xn, n, gate), new Matmul.Product(l.up, xn, n, up));
      for (int i = 0; i < gate.length; i++) {
        float g = gate[i];
        gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
      }
      Matmul.run(pool, new Matmul.Product(l.down, gate, n, proj));
      add(x, proj);
    }
    int m = n - logitsFrom;
    if (m > 0) {
      float[] last = new float[m * h];
      System.arraycopy(x, logitsFrom * h, last, 0, m * h);
      float[] normed = new float[m * h];
      rmsNorm(last, finalNorm, normed, m, lanes);
      Matmul.run(pool, new Matmul.Product(lmHead, normed, m, logits));
    }
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
    float[] scores = s.scores(last + 1);
    float scale = (float) (1.0 / Math.sqrt(hd));
    int t = 0;
    float max = Float.NEGATIVE_INFINITY;
    for (KvSegment seg : segments[r]) {
      int count = Math.min(seg.length, last + 1 - seg.start);
      float[] keys = seg.keys[li];
      for (int j = 0; j < count; j++) {
        float sc = VectorKernels.dot(q, qo, keys, j * kvDim + kvo, hd, s.lanes) * scale;
        scores[t++] = sc;
        max = Math.max(max, sc);
      }
    }
    float sum = 0f;
    for (int i = 0; i < t; i++) {
      float e = (float) Math.exp(scores[i] - max);
      scores[i] = e;
      sum += e;
    }
    int ao = r * qDim + head * hd;
    java.util.Arrays.fill(att, ao, ao + hd, 0f);
    t = 0;
    for (KvSegment seg : segments[r]) {
      int count = Math.min(seg.length, last + 1 - seg.start);
      float[] values = seg.values[li];
      for (int j = 0; j < count; j++) {
        VectorKernels.axpy(scores[t++] / sum, values, j * kvDim + kvo, att, ao, hd);
      }
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
  private void rmsNorm(float[] x, float[] weight, float[] out, int n, float[] lanes) {
    int h = c.hiddenSize();
    for (int r = 0; r < n; r++) {
      int o = r * h;
      float ss = VectorKernels.dot(x, o, x, o, h, lanes);
      float inv = (float) (1.0 / Math.sqrt(ss / h + c.rmsNormEps()));
      for (int i = 0; i < h; i++) {
        out[o + i] = weight[i] * (x[o + i] * inv);
      }
    }
  }

  private static void addBias(float[] y, float[] bias, int n) {
    if (bias == null) {
      return;
    }
    for (int r = 0; r < n; r++) {
      int o = r * bias.length;
      for (int i = 0; i < bias.length; i++) {
        y[o + i] += bias[i];
      }
    }
  }

  private static void add(float[] x, float[] y) {
    for (int i = 0; i < x.length; i++) {
      x[i] += y[i];
    }
  }
}
