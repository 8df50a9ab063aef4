package ai.chunkwise.train.distributed;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.MetricsLog;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import ai.chunkwise.train.model.LlamaConfig;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * train.distributed = spark against the reference it must equal: the same run in one process with gradient
 * accumulation. Spark runs in local mode with two task slots (local[2]): four micro-batches a step, two at a time,
 * each computed by its own model in the test JVM, added by the driver in micro-batch order.
 */
class DataParallelTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static String quote(Path p) {
        return ConfigUtil.quoteString(p.toString());
    }

    /** Two weighted sources through a small shuffle buffer, 4 micro-batches of 1 row a step. */
    private static Map<String, String> run(Path tmp, String dtype) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.sources", "[{path = " + quote(TinyDatasets.write(tmp.resolve("a"), 7)) + ", weight = 2}, "
                + "{path = " + quote(TinyDatasets.write(tmp.resolve("b"), 5)) + ", weight = 1}]");
        o.put("train.data.shuffle-buffer", "3");
        o.put("train.model.dtype", dtype);
        o.put("train.accumulation-steps", "4");
        o.put("train.steps", "3");
        o.put("train.checkpoint-every", "1");
        o.put("train.optimizer.lr", "0.01");
        o.put("train.optimizer.warmup-steps", "1");
        return o;
    }

    private static Map<String, String> onSpark(Map<String, String> o, Path out) {
        Map<String, String> s = new LinkedHashMap<>(o);
        s.put("train.distributed", "spark");
        s.put("train.spark.master", "\"local[2]\"");
        s.put("train.output", quote(out));
        return s;
    }

    private static Map<String, String> inProcess(Map<String, String> o, Path out) {
        Map<String, String> s = new LinkedHashMap<>(o);
        s.put("train.output", quote(out));
        return s;
    }

    private static void train(Map<String, String> overrides, boolean resume, long stopAt) {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        new Trainer(TrainSettings.load(null, overrides), quiet).run(resume, stopAt, false);
    }

    private static List<JsonNode> metrics(Path out) throws IOException {
        return Files.readAllLines(out.resolve(MetricsLog.FILE_NAME)).stream().map(l -> {
            try {
                return JSON.readTree(l);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }).toList();
    }

    /** Full fine-tuning from scratch, SpaCO (random chunk draws per micro-batch), float64: within 1e-12. */
    @Test
    void sparkStepsEqualOneProcessAccumulatingTheSameGlobalBatchInFloat64(@TempDir Path tmp) throws IOException {
        Path config = tmp.resolve("config.json");
        HfCheckpoint.writeConfig(TinyDatasets.tinyModel(), config);
        Map<String, String> o = run(tmp, "float64");
        o.put("train.model.init-config", quote(config));
        o.put("train.method.name", "spaco");
        o.put("train.method.budget", "1");
        train(inProcess(o, tmp.resolve("local")), false, Long.MAX_VALUE);
        train(onSpark(o, tmp.resolve("spark")), false, Long.MAX_VALUE);

        List<JsonNode> local = metrics(tmp.resolve("local"));
        List<JsonNode> spark = metrics(tmp.resolve("spark"));
        assertEquals(3, spark.size());
        for (int i = 0; i < 3; i++) {
            for (String key : List.of("loss", "grad_norm")) {
                double want = local.get(i).get(key).asDouble();
                assertEquals(want, spark.get(i).get(key).asDouble(), 1e-12 * Math.abs(want), key + " of step " + (i + 1));
            }
            assertEquals(local.get(i).get("chunks_visited"), spark.get(i).get("chunks_visited"), "SpaCO's draws");
        }
        String step3 = "checkpoints/step-000003/";
        Map<String, INDArray> a = HfCheckpoint.load(tmp.resolve("local").resolve(step3 + "model"), DataType.DOUBLE).weights();
        Map<String, INDArray> b = HfCheckpoint.load(tmp.resolve("spark").resolve(step3 + "model"), DataType.DOUBLE).weights();
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            double diff = a.get(name).sub(b.get(name)).amaxNumber().doubleValue();
            assertTrue(diff <= 1e-12, name + " differs by " + diff);
        }
        assertEquals(JSON.readTree(tmp.resolve("local").resolve(step3 + "trainer_state.json").toFile()).get("data_position"),
                JSON.readTree(tmp.resolve("spark").resolve(step3 + "trainer_state.json").toFile()).get("data_position"));
    }

    /**
     * LoRA SeCO in float32, the summation order fixed: the adapter is bit-identical to one process's, also when the
     * distributed run is stopped after step 1 and resumed from its checkpoint.
     */
    @Test
    void loraStepsAreBitIdenticalInFloat32AndResumeExactly(@TempDir Path tmp) throws IOException {
        LlamaConfig config = TinyDatasets.tinyModel();
        Path baseDir = tmp.resolve("base");
        HfCheckpoint.save(baseDir, config, RandomInit.weights(config, 5, 0.02, DataType.FLOAT));
        Map<String, String> o = run(tmp, "float32");
        o.put("train.model.path", quote(baseDir));
        o.put("train.lora.enabled", "true");
        o.put("train.method.chunk-size", "8");
        train(inProcess(o, tmp.resolve("local")), false, Long.MAX_VALUE);
        Map<String, String> spark = onSpark(o, tmp.resolve("spark"));
        train(spark, false, 1);
        train(spark, true, Long.MAX_VALUE);

        String adapter = "checkpoints/step-000003/adapter/";
        Map<String, INDArray> a = PeftAdapter.load(tmp.resolve("local").resolve(adapter), DataType.FLOAT).tensors();
        Map<String, INDArray> b = PeftAdapter.load(tmp.resolve("spark").resolve(adapter), DataType.FLOAT).tensors();
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).data().asFloat(), b.get(name).data().asFloat(), 0f, name);
        }
        assertTrue(a.get(PeftAdapter.tensorName(0, "q_proj", 'B')).norm2Number().doubleValue() > 0, "trained");
        assertArrayEquals(Files.readAllBytes(tmp.resolve("local").resolve("checkpoints/step-000003/optimizer.safetensors")),
                Files.readAllBytes(tmp.resolve("spark").resolve("checkpoints/step-000003/optimizer.safetensors")));
    }

    @Test
    void anExecutorTooSmallForTheModelFailsTheRunNamingItsBudget(@TempDir Path tmp) {
        Path config = tmp.resolve("config.json");
        HfCheckpoint.writeConfig(TinyDatasets.tinyModel(), config);
        Map<String, String> o = run(tmp, "float32");
        o.put("train.model.init-config", quote(config));
        Map<String, String> spark = onSpark(o, tmp.resolve("spark"));
        spark.put("train.spark.executor-memory-limit", "1M");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> train(spark, false, Long.MAX_VALUE));
        assertTrue(e.getMessage().contains("executor on") && e.getMessage().contains("train.spark.executor-memory-limit"),
                e.getMessage());
    }
}
