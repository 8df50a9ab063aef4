package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.data.BatchAssembler;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.pipeline.packing.PackedSequence;
import ai.chunkwise.train.data.DatasetSource;
import ai.chunkwise.train.data.HadoopEnvironment;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.FullBackprop;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.report.ReportPlotCheck;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train.eval: held-out loss in metrics.jsonl every N steps and at the end, equal to `eval --checkpoint`'s; and the
 * run's report.html plots exactly those figures.
 */
class HeldOutEvalTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void evalLossIsLoggedEveryNStepsAndMatchesTheEvalCommandAndAnIndependentForward(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path train = TinyDatasets.write(tmp.resolve("train"), 4);
        Path eval = TinyDatasets.write(tmp.resolve("eval"), TinyDatasets.rows(9).subList(4, 9), TinyDatasets.TOKENIZER);

        List<JsonNode> withEval = train(tmp, modelConfig, train, "with-eval", eval);
        List<JsonNode> without = train(tmp, modelConfig, train, "without-eval", null);

        // evaluated after steps 2 and 4 (every-steps 2) and after the last one (5); never in between
        List<Long> evaluated = new ArrayList<>();
        for (JsonNode m : withEval) {
            if (m.has("eval_loss")) {
                evaluated.add(m.get("step").asLong());
                assertEquals(Math.exp(m.get("eval_loss").asDouble()), m.get("eval_perplexity").asDouble(), 1e-12);
                assertEquals(4, m.get("eval_sequences").asInt(), "5 held-out rows in batches of 2: 4 evaluated");
                assertEquals(1, m.get("eval_sequences_dropped").asInt());
            }
        }
        assertEquals(List.of(2L, 4L, 5L), evaluated);
        // evaluating does not disturb training: the same losses, bit for bit, as a run without evaluation
        for (int i = 0; i < without.size(); i++) {
            assertEquals(without.get(i).get("loss").asDouble(), withEval.get(i).get("loss").asDouble(), 0.0, "step " + (i + 1));
            assertFalse(without.get(i).has("eval_loss"));
        }
        double logged = withEval.get(4).get("eval_loss").asDouble();

        // the eval command on the run's last checkpoint, with the run's held-out data and settings by default
        CommandRun r = CommandRun.of("eval", "--checkpoint", tmp.resolve("with-eval").toString());
        assertEquals(0, r.code(), r.err());
        JsonNode cmd = JSON.readTree(r.out().trim());
        assertEquals(eval.toString(), cmd.get("dataset").asText());
        assertEquals(logged, cmd.get("loss").asDouble(), 1e-12 * Math.abs(logged));

        // independent reference: plain (un-chunked) forward of the checkpoint's weights over the same 4 rows
        Path weights = tmp.resolve("with-eval/checkpoints/step-000005/model");
        LlamaModel model = new LlamaModel(TinyDatasets.tinyModel(), HfCheckpoint.load(weights, DataType.DOUBLE).weights(),
                null, DataType.DOUBLE, 2);
        List<PackedSequence> rows = new ArrayList<>();
        try (DatasetSource source = DatasetSource.open(eval.toString(), HadoopEnvironment.configuration(), 0, true)) {
            source.rowsInOrder().forEachRemaining(rows::add);
        }
        BatchAssembler assembler = new BatchAssembler(true);
        double sum = 0;
        long n = 0;
        for (int start = 0; start < 4; start += 2) {
            Batch b = assembler.assemble(List.of(rows.get(start), rows.get(start + 1)));
            BatchGradients g = new FullBackprop(model).compute(b);
            sum += g.loss() * g.predictedTokens();
            n += g.predictedTokens();
        }
        assertEquals(sum / n, logged, 1e-12);

        JsonNode report = JSON.readTree(Files.readString(tmp.resolve("with-eval/report.json")));
        assertEquals(logged, report.get("eval_loss").asDouble(), 0.0);
        assertEquals(3, report.get("eval_curve").size());

        // report.html: the plots, drawn from exactly these metrics (no SpaCO plot for a SeCO run)
        ReportPlotCheck.check(tmp.resolve("with-eval"), List.of("Loss against step", "Loss against tokens seen",
                "Throughput", "Memory", "Learning rate"));
    }

    private static List<JsonNode> train(Path tmp, Path modelConfig, Path dataset, String out, Path eval) throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--init-config", modelConfig.toString(),
                "--dataset", dataset.toString(), "--out", tmp.resolve(out).toString(), "--steps", "5",
                "--set", "train.batch-size=2", "--set", "train.model.dtype=float64", "--set", "train.method.chunk-size=8",
                "--set", "train.checkpoint-every=0"));
        if (eval != null) {
            args.addAll(List.of("--set", "train.eval.dataset=\"" + eval + "\"", "--set", "train.eval.every-steps=2"));
        }
        CommandRun r = CommandRun.of(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<JsonNode> metrics = new ArrayList<>();
        for (String line : Files.readAllLines(tmp.resolve(out).resolve("metrics.jsonl"))) {
            metrics.add(JSON.readTree(line));
        }
        assertEquals(5, metrics.size());
        return metrics;
    }

}
