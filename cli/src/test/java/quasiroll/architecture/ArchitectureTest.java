package quasiroll.architecture;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import quasiroll.cluster.wire.KryoClusterSerializer;

/** The architecture rules hold for the main code of every module on this classpath. */
class ArchitectureTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainClasses() {
    main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("quasiroll");
  }

  @Test
  void everyModuleWasImported() {
    // The rules below would pass vacuously on an empty import.
    for (String c :
        List.of(
            "quasiroll.v1.JobSpec",
            "quasiroll.common.sampler.SamplerSpec",
            "quasiroll.cluster.wire.ToWorker",
            "quasiroll.worker.node.WorkerAgent",
            "quasiroll.coordinator.job.JobManager",
            "quasiroll.sweep.Sweep",
            "quasiroll.cli.Main")) {
      assertTrue(main.contain(c), c + " was not imported");
    }
  }

  @Test
  void coordinatorDoesNotImportWorker() {
    ArchitectureRules.COORDINATOR_DOES_NOT_IMPORT_WORKER.check(main);
  }

  @Test
  void workerDoesNotImportCoordinator() {
    ArchitectureRules.WORKER_DOES_NOT_IMPORT_COORDINATOR.check(main);
  }

  @Test
  void commonAndClusterDoNotImportUpperModules() {
    ArchitectureRules.LOWER_LAYERS_DO_NOT_IMPORT_UPPER.check(main);
  }

  @Test
  void noPackageCycles() {
    ArchitectureRules.NO_PACKAGE_CYCLES.check(main);
  }

  @Test
  void everyWireMessageHasAKryoId() {
    ArchitectureRules.wireMessagesHaveKryoIds(KryoClusterSerializer.IDS.values()).check(main);
  }
}
