package quasiroll.worker.runtime.transformer;

/**
 * Which pairs of a head's dimensions a rotary embedding rotates together. The two layouts are
 * the same rotation applied to differently ordered q/k rows, so a backend must use the layout
 * that matches how the q/k projection rows of the loaded weights are ordered.
 */
public enum RopeLayout {
  /**
   * Hugging Face / GPT-NeoX order: dimension i pairs with i + headDim/2. Used by every HF
   * checkpoint (Llama, Qwen2) and by GGUF files of architectures llama.cpp runs with "neox"
   * rope (qwen2).
   */
  HALF_SPLIT,
  /**
   * Original Llama / GGUF "llama" order: dimension 2i pairs with 2i+1. llama.cpp's
   * convert_hf_to_gguf permutes the q/k rows of llama-architecture checkpoints into this
   * order, so a GGUF llama file needs it.
   */
  INTERLEAVED
}
