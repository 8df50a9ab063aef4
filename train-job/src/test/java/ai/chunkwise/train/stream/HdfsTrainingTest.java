package ai.chunkwise.train.stream;

import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.train.cli.CommandRun;
import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigUtil;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A dataset on HDFS (Hadoop's in-process MiniDFSCluster: a real NameNode and DataNode on loopback) is inspected,
 * trained on across a stop and a resume, and evaluated, with the same results as the local copy it came from.
 */
class HdfsTrainingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path hdfsBase;
    private static MiniDFSCluster cluster;

    @BeforeAll
    static void startHdfs() throws Exception {
        cluster = InProcessHdfs.start(hdfsBase);
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    private static String quote(Object p) {
        return ConfigUtil.quoteString(p.toString());
    }

    private static Map<String, String> settings(String dataset, Path config, Path out) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", quote(dataset));
        o.put("train.data.shuffle-buffer", "3");
        o.put("train.model.init-config", quote(config));
        o.put("train.model.dtype", "float64");
        o.put("train.output", quote(out));
        o.put("train.batch-size", "2");
        o.put("train.steps", "3");
        o.put("train.checkpoint-every", "1");
        o.put("train.optimizer.lr", "0.01");
        return o;
    }

    private static void train(Map<String, String> o, boolean resume, long stopAt) {
        new Trainer(TrainSettings.load(null, o), new PrintStream(new ByteArrayOutputStream())).run(resume, stopAt, false);
    }

    @Test
    void aDatasetOnHdfsIsInspectedTrainedOnResumedAndEvaluatedLikeItsLocalCopy(@TempDir Path tmp) throws Exception {
        Path local = TinyDatasets.write(tmp.resolve("ds"), 7);
        String uri = InProcessHdfs.upload(cluster, local, "/datasets/tiny");

        JsonNode remote = JSON.readTree(DatasetInspector.summaryJson(uri, new Configuration()));
        JsonNode here = JSON.readTree(DatasetInspector.summaryJson(local));
        assertEquals(uri, remote.get("dataset").asText());
        assertEquals(7, remote.get("rows_read").asInt());
        assertEquals(here.get("content_digest"), remote.get("content_digest"), "the same rows, read through HDFS");

        Path config = TinyDatasets.modelConfig(tmp);
        train(settings(local.toString(), config, tmp.resolve("local")), false, Long.MAX_VALUE);
        Map<String, String> onHdfs = settings(uri, config, tmp.resolve("hdfs"));
        train(onHdfs, false, 2);    // stops mid-epoch (4 of 7 rows read)
        train(onHdfs, true, Long.MAX_VALUE);
        for (String file : List.of("model/model.safetensors", "trainer_state.json")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("local/checkpoints/step-000003").resolve(file)),
                    Files.readAllBytes(tmp.resolve("hdfs/checkpoints/step-000003").resolve(file)),
                    file + ": a split run on HDFS equals an uninterrupted local one");
        }

        String model = tmp.resolve("local/checkpoints/step-000003/model").toString();
        JsonNode evalRemote = eval(model, uri);
        JsonNode evalLocal = eval(model, local.toString());
        assertEquals(6, evalRemote.get("sequences").asInt());
        assertEquals(evalLocal.get("loss").asDouble(), evalRemote.get("loss").asDouble(), 0.0);
    }

    private static JsonNode eval(String model, String dataset) throws Exception {
        CommandRun r = CommandRun.of("eval", "--model", model, "--dataset", dataset, "--batch-size", "2", "--dtype",
                "float64");
        assertEquals(0, r.code(), r.err());
        return JSON.readTree(r.out().trim());
    }
}
