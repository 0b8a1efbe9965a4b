package quasiroll.sweep;

import quasiroll.cluster.ApiConversions;
import quasiroll.common.sampler.DecodeParams;
import quasiroll.common.sampler.SamplerSpec;
import quasiroll.common.sampler.VocabOrder;
import quasiroll.v1.JobSpec;

/** Builds the v1 {@link JobSpec} of one sweep job. */
final class JobSpecs {
  private JobSpecs() {}

  static JobSpec of(SweepPlan.PlannedJob job, SweepTask task, DecodeParams decode) {
    JobKey key = job.key();
    SamplerSpec s = job.sampler();
    quasiroll.v1.SamplerSpec.Builder sampler =
        quasiroll.v1.SamplerSpec.newBuilder()
            .setKind(s.coupling().shortName())
            .putAllOptions(s.options());
    if (decode.vocabOrder() != VocabOrder.ID
        && !s.options().containsKey(ApiConversions.VOCAB_ORDER_OPTION)) {
      sampler.putOptions(ApiConversions.VOCAB_ORDER_OPTION, decode.vocabOrder().shortName());
    }
    quasiroll.v1.DecodeParams.Builder d =
        quasiroll.v1.DecodeParams.newBuilder()
            .setTemperature((float) key.temperature())
            .setTopK(decode.topK())
            .setMinP((float) decode.minP())
            .setMaxNewTokens(decode.maxNewTokens())
            .addAllStopStrings(decode.stopStrings())
            .addAllStopTokenIds(decode.stopTokenIds());
    if (decode.topP() < 1) {
      d.setTopP((float) decode.topP());
    }
    return JobSpec.newBuilder()
        .setModel(key.model())
        .addAllPrompts(task.prompts())
        .setK(key.k())
        .setSampler(sampler)
        .setDecode(d)
        .setSeed(job.seed())
        .setName(key.id())
        .build();
  }
}
