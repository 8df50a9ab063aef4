package ai.chunkwise.train.stream;

import ai.chunkwise.pipeline.cli.PipelineCli;
import ai.chunkwise.train.checkpoint.HfFixtures;
import ai.chunkwise.train.cli.CommandRun;
import ai.chunkwise.train.data.TinyDatasets;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every option that takes a location keeps an {@code hdfs://host:port/...} URI as it was typed (issue #20, item 1:
 * picocli used to parse them into java.nio Paths, which collapse the {@code //} and lose the NameNode). Each option
 * is driven through the command line against a MiniDFSCluster, and what it read or wrote is compared with the
 * same command on local copies.
 */
class HdfsLocationOptionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path hdfsBase;
    private static MiniDFSCluster cluster;
    private static FileSystem hdfs;

    @BeforeAll
    static void startHdfs() throws Exception {
        cluster = InProcessHdfs.start(hdfsBase);
        hdfs = cluster.getFileSystem();
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }



    private static String upload(Path local, String hdfsPath) throws Exception {
        return InProcessHdfs.upload(cluster, local, hdfsPath);
    }

    private static Path download(String hdfsPath, Path local) throws Exception {
        hdfs.copyToLocalFile(false, new org.apache.hadoop.fs.Path(hdfsPath), new org.apache.hadoop.fs.Path(local.toUri()), true);
        return local;
    }

    /** The JSON line eval and grad end with. */
    private static JsonNode json(CommandRun r) throws Exception {
        String[] lines = (r.out() + "\n" + r.console()).trim().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("{"), "out: " + r.out() + "\nconsole: " + r.console() + "\nerr: " + r.err());
        return JSON.readTree(last);
    }

    @Test
    void trainAndEvalTakeConfInitConfigDatasetOutAndCheckpointAsHdfsUris(@TempDir Path tmp) throws Exception {
        Path config = TinyDatasets.modelConfig(tmp);
        Path conf = tmp.resolve("run.conf");
        Files.writeString(conf, "train { steps = 2, batch-size = 2, checkpoint-every = 1, model.dtype = float64 }\n");
        Path localData = TinyDatasets.write(tmp.resolve("ds"), 6);
        String confUri = upload(conf, "/a/run.conf");
        String configUri = upload(config, "/a/config.json");
        String dataUri = upload(localData, "/a/ds");
        String outUri = cluster.getURI() + "/a/runs/scratch";

        CommandRun trained = CommandRun.of("train", "--conf", confUri, "--init-config", configUri, "--dataset", dataUri,
                "--out", outUri);
        assertEquals(0, trained.code(), trained.err() + trained.console());
        assertFalse((trained.console() + trained.err()).contains("hdfs:/" + cluster.getNameNode().getNameNodeAddress().getHostString()),
                "no URI lost its //");
        assertEquals("step-000002", new String(hdfs.open(new org.apache.hadoop.fs.Path("/a/runs/scratch/checkpoints/latest"))
                .readAllBytes(), StandardCharsets.UTF_8).trim(), "the run (2 steps, from --conf) was published to --out on HDFS");
        assertTrue(hdfs.isFile(new org.apache.hadoop.fs.Path("/a/runs/scratch/report.html")));

        // eval --checkpoint <run on HDFS> (its latest checkpoint) against eval --model of a local copy of it
        CommandRun remote = CommandRun.of("eval", "--checkpoint", outUri, "--dataset", dataUri, "--dtype", "float64");
        assertEquals(0, remote.code(), remote.err());
        JsonNode r = json(remote);
        assertEquals(outUri + "/checkpoints/step-000002", r.get("checkpoint").asText());
        Path copy = download("/a/runs/scratch/checkpoints/step-000002/model", tmp.resolve("model-copy"));
        CommandRun local = CommandRun.of("eval", "--model", copy.toString(), "--dataset", localData.toString(), "--dtype", "float64",
                "--batch-size", "2");   // the run's batch size, which --checkpoint takes: the same summation order
        assertEquals(0, local.code(), local.err());
        assertEquals(json(local).get("loss").asDouble(), r.get("loss").asDouble(), 0.0);
        assertEquals(6, r.get("sequences").asInt());
    }

    @Test
    void modelAdapterInputAndGradOutTakeHdfsUris(@TempDir Path tmp) throws Exception {
        String modelUri = upload(HfFixtures.gqa(), "/b/models/tiny");
        String loraModelUri = upload(HfFixtures.gqaLora(), "/b/models/tiny-lora");
        String dataUri = upload(TinyDatasets.write(tmp.resolve("ds"), 4), "/b/ds");

        // train --model <HDFS>: LoRA, and the adapter names its base model as given
        CommandRun trained = CommandRun.of("train", "--model", modelUri, "--dataset", dataUri, "--out", tmp.resolve("run").toString(),
                "--steps", "1", "--set", "train.lora.enabled=true", "--set", "train.data.check-tokenizer=false");
        assertEquals(0, trained.code(), trained.err() + trained.console());
        JsonNode adapterConfig = JSON.readTree(tmp.resolve("run/checkpoints/step-000001/adapter/adapter_config.json").toFile());
        assertEquals(modelUri, adapterConfig.get("base_model_name_or_path").asText());

        // eval --model/--adapter <HDFS> equals the same on the fixture's local files
        String adapterUri = loraModelUri + "/adapter";
        CommandRun remote = CommandRun.of("eval", "--model", loraModelUri, "--adapter", adapterUri, "--dataset", dataUri,
                "--dtype", "float64", "--check-tokenizer", "off");
        CommandRun local = CommandRun.of("eval", "--model", HfFixtures.gqaLora().toString(), "--adapter",
                HfFixtures.gqaLora().resolve("adapter").toString(), "--dataset", tmp.resolve("ds").toString(),
                "--dtype", "float64", "--check-tokenizer", "off");
        assertEquals(0, remote.code(), remote.err());
        assertEquals(0, local.code(), local.err());
        assertEquals(json(local).get("loss").asDouble(), json(remote).get("loss").asDouble(), 0.0);
        assertEquals(loraModelUri, json(remote).get("model").asText());
        assertEquals(adapterUri, json(remote).get("adapter").asText());

        // grad --model/--adapter/--input/--out <HDFS> writes the same bytes as with local paths
        String gradUri = cluster.getURI() + "/b/grad.safetensors";
        CommandRun g = CommandRun.of("grad", "--model", loraModelUri, "--adapter", adapterUri, "--input", loraModelUri + "/reference.safetensors",
                "--method", "full", "--dtype", "float64", "--out", gradUri);
        assertEquals(0, g.code(), g.err());
        assertEquals(gradUri, json(g).get("out").asText());
        Path localGrad = tmp.resolve("grad.safetensors");
        CommandRun gl = CommandRun.of("grad", "--model", HfFixtures.gqaLora().toString(), "--adapter",
                HfFixtures.gqaLora().resolve("adapter").toString(), "--input",
                HfFixtures.gqaLora().resolve("reference.safetensors").toString(), "--method", "full", "--dtype", "float64",
                "--out", localGrad.toString());
        assertEquals(0, gl.code(), gl.err());
        assertArrayEquals(Files.readAllBytes(localGrad),
                Files.readAllBytes(download("/b/grad.safetensors", tmp.resolve("grad-copy.safetensors"))));
    }

    @Test
    void pipelineRunReadsItsConfigurationFromAnHdfsUri(@TempDir Path tmp) throws Exception {
        // a configuration with a misspelled key: refused naming that key, so the file was read through HDFS
        Path conf = tmp.resolve("p.conf");
        Files.writeString(conf, "pipeline { tokenise { conf = \"x\" } }\n");
        String uri = upload(conf, "/c/p.conf");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PipelineCli.run(new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true), "run", uri);
        String message = err.toString(StandardCharsets.UTF_8);
        assertNotEquals(0, code);
        assertTrue(message.contains("pipeline.tokenise"), message);
        assertFalse(message.contains("Incomplete HDFS URI"), message);
    }

    @Test
    void anS3aOutputKeepsItsBucket(@TempDir Path tmp) throws Exception {
        Path config = TinyDatasets.modelConfig(tmp);
        // no s3a client on this class path: the run fails, and its message names the bucket as typed
        CommandRun r = CommandRun.of("train", "--init-config", config.toString(), "--dataset",
                TinyDatasets.write(tmp.resolve("ds"), 2).toString(), "--out", "s3a://my-bucket/runs/x", "--steps", "1");
        assertEquals(1, r.code(), "failed while running: " + r.err());
        assertTrue(r.err().contains("s3a://my-bucket/runs/x"), r.err());
    }
}
