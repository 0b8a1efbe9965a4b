package quasiroll.cluster;

import java.util.Map;
import quasiroll.common.error.BadInputException;
import quasiroll.common.sampler.CouplingKind;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;

/**
 * The v1 API's sampler and decode messages as domain records, with the defaults the proto documents
 * (unset temperature 1.0, unset top-p 1.0, unset max_new_tokens 256, sampler "iid", vocab order
 * "id"). The coordinator validates specs with these and the worker builds its shard requests with
 * these, so both always agree on what a spec means.
 */
public final class ApiConversions {
  /** Sampler option naming the vocabulary order along the CDF. */
  public static final String VOCAB_ORDER_OPTION = "vocab_order";

  private ApiConversions() {}

  /**
   * @throws BadInputException naming an unknown sampler kind
   */
  public static SamplerSpec samplerSpec(quasiroll.v1.SamplerSpec proto) {
    String kind = proto.getKind().isEmpty() ? CouplingKind.IID.shortName() : proto.getKind();
    return new SamplerSpec(CouplingKind.parse(kind), proto.getOptionsMap());
  }

  /**
   * @throws BadInputException naming the first out-of-range field
   */
  public static DecodeParams decodeParams(
      quasiroll.v1.DecodeParams proto, quasiroll.v1.SamplerSpec sampler) {
    Map<String, String> options = sampler.getOptionsMap();
    VocabOrder order =
        options.containsKey(VOCAB_ORDER_OPTION)
            ? VocabOrder.parse(options.get(VOCAB_ORDER_OPTION))
            : VocabOrder.ID;
    return new DecodeParams(
        proto.hasTemperature() ? proto.getTemperature() : DecodeParams.DEFAULT.temperature(),
        proto.getTopK(),
        proto.hasTopP() ? proto.getTopP() : 1.0,
        proto.getMinP(),
        order,
        proto.getMaxNewTokens() == 0
            ? DecodeParams.DEFAULT.maxNewTokens()
            : proto.getMaxNewTokens(),
        proto.getStopStringsList(),
        proto.getStopTokenIdsList());
  }
}
