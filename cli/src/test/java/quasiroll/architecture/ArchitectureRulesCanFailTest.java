package quasiroll.architecture;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import quasiroll.cluster.wire.KryoClusterSerializer;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.cluster.wire.ToWorker;
import quasiroll.common.archfixture.a.CycleA;
import quasiroll.common.archfixture.b.CycleB;
import quasiroll.coordinator.archfixture.CoordinatorImportingWorker;
import quasiroll.coordinator.job.JobManager;
import quasiroll.worker.archfixture.WorkerImportingCoordinator;
import quasiroll.worker.engine.ResolvedShard;

/**
 * Each architecture rule reports a violation on a deliberately bad fixture (test sources, packages
 * {@code quasiroll.*.archfixture}), and none on a good class set, so the rules in {@link
 * ArchitectureTest} cannot pass vacuously.
 */
class ArchitectureRulesCanFailTest {
  private static JavaClasses classes(Class<?>... cs) {
    return new ClassFileImporter().importClasses(cs);
  }

  private static void assertViolated(ArchRule rule, JavaClasses classes, String mentioned) {
    EvaluationResult r = rule.evaluate(classes);
    assertTrue(r.hasViolation(), "expected a violation of: " + rule.getDescription());
    String report = r.getFailureReport().toString();
    assertTrue(report.contains(mentioned), report);
  }

  private static void assertHolds(ArchRule rule, JavaClasses classes) {
    EvaluationResult r = rule.evaluate(classes);
    assertFalse(r.hasViolation(), r.getFailureReport().toString());
  }

  @Test
  void coordinatorImportingWorkerIsReported() {
    assertViolated(
        ArchitectureRules.COORDINATOR_DOES_NOT_IMPORT_WORKER,
        classes(CoordinatorImportingWorker.class, ResolvedShard.class),
        "CoordinatorImportingWorker");
    assertHolds(
        ArchitectureRules.COORDINATOR_DOES_NOT_IMPORT_WORKER,
        classes(JobManager.class, ResolvedShard.class));
  }

  @Test
  void workerImportingCoordinatorIsReported() {
    assertViolated(
        ArchitectureRules.WORKER_DOES_NOT_IMPORT_COORDINATOR,
        classes(WorkerImportingCoordinator.class, JobManager.class),
        "WorkerImportingCoordinator");
  }

  @Test
  void commonReachingUpIsReported() {
    assertViolated(
        ArchitectureRules.LOWER_LAYERS_DO_NOT_IMPORT_UPPER,
        classes(CycleA.class, ResolvedShard.class),
        "CycleA");
  }

  @Test
  void aPackageCycleIsReported() {
    assertViolated(
        ArchitectureRules.NO_PACKAGE_CYCLES, classes(CycleA.class, CycleB.class), "archfixture");
    assertHolds(ArchitectureRules.NO_PACKAGE_CYCLES, classes(CycleB.class));
  }

  @Test
  void aWireMessageWithoutKryoIdIsReported() {
    JavaClasses contract =
        classes(
            ToWorker.class,
            ToWorker.AssignShard.class,
            ToWorker.CancelJobWork.class,
            ToWorker.Welcome.class,
            ToWorker.Local.class,
            ToCoordinator.class,
            ToCoordinator.RegisterWorker.class,
            ToCoordinator.RequestWork.class,
            ToCoordinator.Local.class);
    assertHolds(
        ArchitectureRules.wireMessagesHaveKryoIds(KryoClusterSerializer.IDS.values()), contract);
    // The id table as it would be had Welcome been added to ToWorker without an id.
    Map<Integer, Class<?>> missing = new HashMap<>(KryoClusterSerializer.IDS);
    missing.values().remove(ToWorker.Welcome.class);
    assertViolated(
        ArchitectureRules.wireMessagesHaveKryoIds(missing.values()),
        contract,
        "ToWorker$Welcome has no Kryo id");
  }
}
