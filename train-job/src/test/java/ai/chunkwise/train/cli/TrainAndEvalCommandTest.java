package ai.chunkwise.train.cli;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.data.BatchAssembler;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.engine.Batch;
import ai.chunkwise.train.engine.BatchGradients;
import ai.chunkwise.train.engine.FullBackprop;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainAndEvalCommandTest {


    @Test
    void evalPerplexityIsTheTokenWeightedLossOfFullBackprop(@TempDir Path tmp) throws Exception {
        LlamaConfig config = TinyDatasets.tinyModel();
        Path modelDir = tmp.resolve("model");
        HfCheckpoint.save(modelDir, config, RandomInit.weights(config, 9, 0.5, DataType.FLOAT));
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 5);

        CommandRun r = CommandRun.of("eval", "--model", modelDir.toString(), "--dataset", ds.toString(), "--max-sequences", "4",
                "--batch-size", "2", "--dtype", "float64");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out().trim());

        // reference: one plain (un-chunked) forward of each batch, weighted by its predicted tokens
        HfCheckpoint hf = HfCheckpoint.load(modelDir, DataType.DOUBLE);
        LlamaModel model = new LlamaModel(config, hf.weights(), null, DataType.DOUBLE, 2);
        List<ai.chunkwise.pipeline.packing.PackedSequence> data = TinyDatasets.rows(5);   // as written, in order
        BatchAssembler assembler = new BatchAssembler(true);
        double sum = 0;
        long n = 0;
        for (int start = 0; start < 4; start += 2) {
            Batch b = assembler.assemble(List.of(data.get(start), data.get(start + 1)));
            BatchGradients g = new FullBackprop(model).compute(b);
            assertEquals(g.predictedTokens(), BatchAssembler.predictedTokens(b), "same target count as the engine");
            sum += g.loss() * g.predictedTokens();
            n += g.predictedTokens();
        }
        assertEquals(4, json.get("sequences").asInt());
        assertEquals(n, json.get("predicted_tokens").asLong());
        assertEquals(2 * 14 * 2, n, "each row predicts 14 of 16 tokens (positions 0 and 9 start documents)");
        assertEquals(sum / n, json.get("loss").asDouble(), 1e-12);
        assertEquals(Math.exp(sum / n), json.get("perplexity").asDouble(), 1e-9);
    }

    @Test
    void trainSubcommandRunsFromTheCommandLineAndReportsBadKeysInOneLine(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 4);
        Path conf = tmp.resolve("t.conf");
        Files.writeString(conf, "train { steps = 2, method { name = spaco, budget = 1 } }\n");
        CommandRun ok = CommandRun.of("train", "--conf", conf.toString(), "--init-config", modelConfig.toString(),
                "--dataset", ds.toString(), "--out", tmp.resolve("out").toString(), "--document-boundaries", "off");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.isRegularFile(tmp.resolve("out/checkpoints/step-000002/trainer_state.json")));
        assertEquals("step-000002", Files.readString(tmp.resolve("out/checkpoints/latest")).trim());
        String page = Files.readString(tmp.resolve("out/report.html"));
        assertTrue(page.contains("alt=\"SpaCO: chunks back-propagated per step\""), "a SpaCO run plots its budget");

        CommandRun bad = CommandRun.of("train", "--conf", conf.toString(), "--set", "train.optimizer.lr-max=1");
        assertEquals(2, bad.code());
        assertTrue(bad.err().startsWith("error: ") && bad.err().contains("'train.optimizer.lr-max'"), bad.err());
    }
}
