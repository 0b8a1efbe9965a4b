package quasiroll.worker.runtime.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The committed PTX is present and well-formed for cuModuleLoadData: a PTX header the CUDA 13
 * driver accepts, the compute_80 target (bf16 tensor cores), 64-bit addressing, every entry the
 * Java side launches with the parameter count it passes, and a NUL-terminated image.
 */
class PtxResourcesTest {
  /** Kernel parameter counts, as CudaTransformer / CudaMatmul / CudaSampler pass them. */
  private static final Map<String, Integer> PARAMS =
      Map.ofEntries(
          Map.entry("embed_bf16", 4),
          Map.entry("embed_f16", 4),
          Map.entry("embed_f32", 4),
          Map.entry("rmsnorm", 5),
          Map.entry("rope_store_kv", 14),
          Map.entry("attention", 14),
          Map.entry("swiglu", 4),
          Map.entry("splitk_reduce", 7),
          Map.entry("matmul_bf16_m16", 10),
          Map.entry("matmul_bf16_m32", 10),
          Map.entry("matmul_bf16_m64", 10),
          Map.entry("matmul_f16_m16", 10),
          Map.entry("matmul_f16_m32", 10),
          Map.entry("matmul_f16_m64", 10),
          Map.entry("coupled_sample", 14));

  @Test
  void everyModuleHasAHeaderTheDriverAccepts() {
    for (String module : PtxResources.ENTRIES.keySet()) {
      String ptx = PtxResources.text(module);
      Matcher v = Pattern.compile("(?m)^\\.version (\\d+)\\.(\\d+)$").matcher(ptx);
      assertTrue(v.find(), module + " has no .version");
      assertTrue(
          Integer.parseInt(v.group(1)) <= 9,
          module + ": PTX ISA newer than CUDA 13.0 drivers know");
      assertTrue(ptx.contains("\n.target sm_80"), module + " must target sm_80 (compute_80)");
      assertTrue(ptx.contains("\n.address_size 64"), module);
      byte[] image = PtxResources.image(module);
      assertEquals(0, image[image.length - 1], "cuModuleLoadData needs a NUL-terminated image");
    }
  }

  @Test
  void everyLaunchedEntryIsThereWithItsParameterCount() {
    for (Map.Entry<String, List<String>> e : PtxResources.ENTRIES.entrySet()) {
      String ptx = PtxResources.text(e.getKey());
      for (String entry : e.getValue()) {
        Matcher m = Pattern.compile("\\.visible \\.entry " + entry + "\\(([^)]*)\\)").matcher(ptx);
        assertTrue(m.find(), e.getKey() + ".ptx lacks entry " + entry);
        int params = m.group(1).split(",").length;
        assertEquals(PARAMS.get(entry), params, entry + " parameter count");
      }
    }
  }

  @Test
  void matmulUsesTensorCoresAndSamplerUsesExactlyRoundedFloatFma() {
    assertTrue(
        PtxResources.text("matmul").contains("mma.sync.aligned"), "wmma must lower to mma.sync");
    String sampling = PtxResources.text("sampling");
    assertTrue(sampling.contains("fma.rn.f32"), "WeightExp port needs fma.rn.f32");
    assertTrue(
        !sampling.contains(".ftz.") && !sampling.contains("ex2."),
        "WeightExp port: no flush-to-zero, no approximate exp");
    assertTrue(!sampling.contains("atom.add.f"), "no floating-point atomics in reductions");
    assertTrue(
        !PtxResources.text("transformer").contains("atom."), "no atomics in the layer kernels");
  }
}
