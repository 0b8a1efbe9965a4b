package quasiroll.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import quasiroll.common.error.BadInputException;
import quasiroll.common.task.TaskPrompt;
import quasiroll.common.task.registry.TaskGenerators;
import quasiroll.v1.Prompt;
import quasiroll.v1.SampleResult;

class TaskCatalogTest {
  @Test
  void generatorTasksAreScoredByTheirVerifiers() {
    TaskSpec spec = new TaskSpec("cd", "generator", 3, Map.of("generator", "countdown", "seed", 5));
    SweepTask task = TaskCatalog.builtIn().build(spec);
    List<TaskPrompt> expected = TaskGenerators.forName("countdown", Map.of()).generate(5, 3);
    assertEquals(3, task.prompts().size());
    for (int j = 0; j < 3; j++) {
      Prompt p = task.prompts().get(j);
      assertEquals(expected.get(j).text(), p.getText());
      SampleResult right = SampleResult.newBuilder().setText(expected.get(j).reference()).build();
      SampleResult wrong = SampleResult.newBuilder().setText("no idea").build();
      assertEquals(1.0, task.scorer().reward(p, right), 0.0);
      assertEquals(0.0, task.scorer().reward(p, wrong), 0.0);
    }
  }

  @Test
  void tokenTargetPassesWhenTheTargetTokenAppears() {
    TaskSpec spec =
        new TaskSpec("t", "token-target", 4, Map.of("vocab", 16, "targets", List.of(3, 5)));
    SweepTask task = TaskCatalog.builtIn().build(spec);
    Prompt p1 = task.prompts().get(1); // target 5
    assertEquals(4, p1.getTokenIdsCount());
    assertEquals(
        1.0,
        task.scorer().reward(p1, SampleResult.newBuilder().addTokenIds(9).addTokenIds(5).build()),
        0.0);
    assertEquals(
        0.0, task.scorer().reward(p1, SampleResult.newBuilder().addTokenIds(3).build()), 0.0);
    assertEquals(
        "tokens: 9 5",
        task.scorer().answer(p1, SampleResult.newBuilder().addTokenIds(9).addTokenIds(5).build()));
    SweepTask firstOnly =
        TaskCatalog.builtIn()
            .build(
                new TaskSpec(
                    "t",
                    "token-target",
                    4,
                    Map.of("vocab", 16, "targets", List.of(3, 5), "match", "first")));
    Prompt q = firstOnly.prompts().get(1);
    assertEquals(
        0.0,
        firstOnly
            .scorer()
            .reward(q, SampleResult.newBuilder().addTokenIds(9).addTokenIds(5).build()),
        0.0);
    assertEquals(
        1.0,
        firstOnly
            .scorer()
            .reward(q, SampleResult.newBuilder().addTokenIds(5).addTokenIds(9).build()),
        0.0);
  }

  @Test
  void unknownKindsAndBadParamsNameTheProblem() {
    BadInputException e =
        assertThrows(
            BadInputException.class,
            () -> TaskCatalog.builtIn().build(new TaskSpec("x", "nope", 1, Map.of())));
    assertTrue(
        e.getMessage().contains("'nope'") && e.getMessage().contains("token-target"),
        e.getMessage());
    assertThrows(
        BadInputException.class,
        () ->
            TaskCatalog.builtIn()
                .build(
                    new TaskSpec(
                        "x", "token-target", 1, Map.of("vocab", 4, "targets", List.of(9)))));
  }
}
