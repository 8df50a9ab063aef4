package ai.chunkwise.cluster;

import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tokenize-job on a real distributed engine: a Spark standalone Master and two Workers (separate JVMs) and a real
 * HDFS, the job submitted exactly as spark-submit does (org.apache.spark.deploy.SparkSubmit with the jar), input
 * and output on hdfs://. The independent reference is the same job in Spark's local mode on local files: the
 * dataset's content digest (SHA-256 over every row's token ids, in order) must be the same.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TokenizeOnClusterIT {
    private static final String MAIN_CLASS = "ai.chunkwise.tokenize.TokenizeJob";
    private static final List<String> GEOMETRY = List.of("--format", "lines", "--chunk-size", "16", "--chunks-per-seq", "4",
            "--shards", "2", "--seed", "11");
    private static final String[] WORDS = {"the", "cat", "sat", "on", "mat", "hello", "world", ".", ",", "dog",
            "über", "naïve", "日本語", "tokens", "cluster"};

    private ItSettings it;
    private ChildProcesses processes;
    private MiniHdfs hdfs;
    private StandaloneSpark spark;
    private Path local;
    private Path tokenizerJson;

    @BeforeAll
    void startCluster() throws Exception {
        it = ItSettings.fromSystemProperties();
        it.requireBuilt();
        deleteRecursively(it.workDir());
        Files.createDirectories(it.workDir());
        local = Files.createDirectories(it.workDir().resolve("local"));
        processes = new ChildProcesses();
        long t0 = System.nanoTime();
        // HDFS and the Spark daemons start side by side (each waits for its own readiness)
        var hdfsStart = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return MiniHdfs.start(processes, it);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        spark = StandaloneSpark.start(it, processes);
        hdfs = hdfsStart.join();
        System.out.printf("cluster-it: HDFS %s and Spark %s (2 workers) up in %.1f s%n", hdfs.url("/"),
                spark.masterUrl(), (System.nanoTime() - t0) / 1e9);

        Path corpus = Files.createDirectories(local.resolve("corpus"));
        for (int f = 0; f < 3; f++) {
            writeDocuments(corpus.resolve("part-" + f + ".txt"), 120, f);
        }
        hdfs.put(corpus, "/corpus");
        tokenizerJson = it.repoRoot().resolve("pipeline/src/test/resources/tokenizers/tiny-wordlevel.json");
        hdfs.put(tokenizerJson, "/tokenizers/tokenizer.json");
    }

    @AfterAll
    void stopCluster() throws IOException {
        if (processes != null) {
            processes.close();   // kills everything, also what a failed start left running
        }
        if (hdfs != null) {
            hdfs.close();
        }
    }

    @Test
    @Order(1)
    void clientModeOnHdfsGivesTheLocalModeDataset() throws Exception {
        String localDigest = localRun("tiktoken", List.of("--tokenizer", "tiktoken:cl100k_base"));
        int code = submit("tiktoken-client", List.of(), List.of("--input", hdfs.url("/corpus"),
                "--output", hdfs.url("/datasets/tiktoken"), "--tokenizer", "tiktoken:cl100k_base"));
        assertEquals(0, code, "spark-submit exit code; log " + it.workDir().resolve("tiktoken-client.log"));
        assertTrue(hdfs.fs().exists(new org.apache.hadoop.fs.Path(hdfs.url("/datasets/tiktoken/_SUCCESS"))));
        String clusterDigest = digest(hdfs.fetch("/datasets/tiktoken", Files.createDirectories(local.resolve("fetched"))));
        System.out.println("cluster-it: tiktoken:cl100k_base local " + localDigest + " cluster " + clusterDigest);
        assertEquals(localDigest, clusterDigest);
        // progress as log lines, not Spark's \r progress bar (the driver's output is not a terminal)
        String log = Files.readString(it.workDir().resolve("tiktoken-client.log"));
        assertTrue(log.contains("StageProgressLog: stage 0 done"), "stage progress lines in the driver log");
        assertTrue(!log.contains("\r"), "no carriage returns in the driver log");
    }

    @Test
    @Order(0)
    void theJarRelocatesWhatItBundlesAndCarriesNoLoggingConfiguration() throws IOException {
        List<String> offending = new ArrayList<>();
        try (java.util.zip.ZipFile jar = new java.util.zip.ZipFile(it.tokenizeJar().toFile())) {
            jar.stream().map(java.util.zip.ZipEntry::getName).forEach(n -> {
                boolean logConfig = !n.contains("/") && n.matches("log4j2?(\\.properties|\\.xml|-test.*)|logback\\.xml");
                boolean unrelocated = n.startsWith("picocli/") || n.startsWith("com/typesafe/") || n.startsWith("com/knuddels/")
                        || n.startsWith("com/google/gson/") || n.startsWith("org/apache/commons/");
                if (logConfig || unrelocated) {
                    offending.add(n);
                }
            });
            assertTrue(jar.getEntry("ai/chunkwise/shaded/picocli/CommandLine.class") != null);
        }
        assertEquals(List.of(), offending);
    }

    @Test
    @Order(2)
    void hfTokenizerFromAnHdfsPathInClusterDeployModeGivesTheLocalModeDataset() throws Exception {
        String localDigest = localRun("hf", List.of("--tokenizer", "hf:" + tokenizerJson));
        List<String> clusterMode = new ArrayList<>(List.of("--deploy-mode", "cluster",
                "--conf", "spark.standalone.submit.waitAppCompletion=true", "--conf", "spark.driver.memory=512m",
                // a driver launched by a Worker gets no --add-opens of its own (client mode's come from this JVM)
                "--conf", "spark.driver.extraJavaOptions=" + String.join(" ", it.jvmOpens())));
        int code = submit("hf-hdfs-cluster-mode", clusterMode, List.of("--input", hdfs.url("/corpus"),
                "--output", hdfs.url("/datasets/hf-hdfs"), "--tokenizer", "hf:" + hdfs.url("/tokenizers/tokenizer.json")));
        assertEquals(0, code);
        // standalone cluster mode: spark-submit exits 0 even when the driver FAILED, so check the outcome itself
        assertTrue(hdfs.fs().exists(new org.apache.hadoop.fs.Path(hdfs.url("/datasets/hf-hdfs/_SUCCESS"))),
                "the driver's log is under " + it.workDir().resolve("worker-*/driver-*"));
        String clusterDigest = digest(hdfs.fetch("/datasets/hf-hdfs", Files.createDirectories(local.resolve("fetched"))));
        System.out.println("cluster-it: hf (hdfs path, cluster deploy mode) local " + localDigest + " cluster " + clusterDigest);
        assertEquals(localDigest, clusterDigest);
    }

    @Test
    @Order(3)
    void hfTokenizerShippedWithFilesGivesTheLocalModeDataset() throws Exception {
        String localDigest = digest(local.resolve("hf"));
        int code = submit("hf-files-client", List.of("--files", tokenizerJson.toString()), List.of(
                "--input", hdfs.url("/corpus"), "--output", hdfs.url("/datasets/hf-files"),
                "--tokenizer", "hf:" + tokenizerJson.getFileName()));
        assertEquals(0, code);
        String clusterDigest = digest(hdfs.fetch("/datasets/hf-files", Files.createDirectories(local.resolve("fetched"))));
        System.out.println("cluster-it: hf (--files, client mode) local " + localDigest + " cluster " + clusterDigest);
        assertEquals(localDigest, clusterDigest);
    }

    @Test
    @Order(4)
    void anIncrementalRunOnHdfsAddsTheNewFileAndASecondHasNothingToDo() throws Exception {
        Path extra = local.resolve("extra/part-3.txt");
        Files.createDirectories(extra.getParent());
        writeDocuments(extra, 80, 3);
        // local reference: the same arrivals (three files, then a fourth) in local mode
        Files.copy(extra, local.resolve("corpus/part-3.txt"));
        String localDigest = localRun("hf", List.of("--tokenizer", "hf:" + tokenizerJson, "--mode", "incremental"));
        hdfs.put(extra, "/corpus/part-3.txt");

        List<String> job = List.of("--input", hdfs.url("/corpus"), "--output", hdfs.url("/datasets/hf-files"),
                "--tokenizer", "hf:" + tokenizerJson.getFileName(), "--mode", "incremental");
        List<String> files = List.of("--files", tokenizerJson.toString());
        assertEquals(0, submit("incremental-client", files, job));
        Path fetched = hdfs.fetch("/datasets/hf-files", Files.createDirectories(local.resolve("fetched-2")));
        JsonNode summary = new ObjectMapper().readTree(DatasetInspector.summaryJson(fetched));
        assertEquals(2, summary.get("dataset_version").asInt());
        assertEquals(2, summary.get("versions").size());
        System.out.println("cluster-it: incremental version 2 local " + localDigest + " cluster "
                + summary.get("content_digest").asText());
        assertEquals(localDigest, summary.get("content_digest").asText());

        String manifestBefore = readHdfs("/datasets/hf-files/manifest.json");
        assertEquals(0, submit("incremental-nothing-to-do", files, job));
        assertTrue(Files.readString(it.workDir().resolve("incremental-nothing-to-do.log")).contains("nothing to do"));
        assertEquals(manifestBefore, readHdfs("/datasets/hf-files/manifest.json"));
    }

    @Test
    @Order(5)
    void aFailingJobExitsNonZeroWithItsErrorInTheDriverLog() throws Exception {
        int code = submit("missing-input", List.of(), List.of("--input", hdfs.url("/no/such/corpus"),
                "--output", hdfs.url("/datasets/never"), "--tokenizer", "bytes"));
        assertNotEquals(0, code);
        String log = Files.readString(it.workDir().resolve("missing-input.log"));
        assertTrue(log.contains("tokenize-job: error: input " + hdfs.url("/no/such/corpus") + " does not exist"), log);
    }

    @Test
    @Order(6)
    void theTrainerReadsTheHdfsDatasetAsASparkDriverApplicationAndResumes() throws Exception {
        // a model for the hf tokenizer's 13 ids and the dataset's 64-token rows
        Path config = Files.writeString(local.resolve("tiny-llama.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 13, "hidden_size": 16,
                 "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                 "head_dim": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                 "max_position_embeddings": 64, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2}
                """);
        Path out = local.resolve("train-run");
        List<String> train = List.of("train", "--init-config", config.toString(), "--dataset", hdfs.url("/datasets/hf-files"),
                "--out", out.toString(), "--method", "seco", "--set", "train.checkpoint-every=1");
        List<String> first = new ArrayList<>(train);
        first.addAll(List.of("--steps", "2"));
        assertEquals(0, submitTrain("train-steps-1-2", first), "log " + it.workDir().resolve("train-steps-1-2.log"));
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-000002")));

        List<String> resumed = new ArrayList<>(train);
        resumed.addAll(List.of("--steps", "3", "--resume"));
        assertEquals(0, submitTrain("train-resume-3", resumed), "log " + it.workDir().resolve("train-resume-3.log"));
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-000003")));
        // one metrics line per step: the resumed run continued at step 3 instead of starting over
        List<Long> steps = Files.readAllLines(out.resolve("metrics.jsonl")).stream().filter(l -> !l.isBlank())
                .map(l -> {
                    try {
                        return new ObjectMapper().readTree(l).path("step").asLong();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).toList();
        assertEquals(List.of(1L, 2L, 3L), steps);
    }

    /**
     * train.distributed = spark on the two Workers, the dataset on hdfs://: each step's 4 micro-batches run as tasks
     * on the executors. One executor JVM is killed (kill -9) once the first step is done; Spark re-runs its task and
     * the run ends with the same weights as the same run computed in the driver alone.
     */
    @Test
    @Order(7)
    void dataParallelTrainingSurvivesAKilledExecutorWithTheSameWeights() throws Exception {
        Path config = Files.writeString(local.resolve("tiny-llama-dp.json"), """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 13, "hidden_size": 16,
                 "intermediate_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                 "head_dim": 8, "hidden_act": "silu", "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
                 "max_position_embeddings": 64, "tie_word_embeddings": true, "bos_token_id": 1, "eos_token_id": 2}
                """);
        List<String> train = List.of("train", "--init-config", config.toString(), "--dataset", hdfs.url("/datasets/hf-files"),
                "--method", "spaco", "--steps", "4", "--set", "train.method.budget=2", "--set", "train.accumulation-steps=4",
                "--set", "train.checkpoint-every=2", "--set", "train.model.dtype=float64");
        Path reference = local.resolve("dp-reference");
        List<String> inDriver = new ArrayList<>(train);
        inDriver.addAll(List.of("--out", reference.toString()));
        assertEquals(0, submitTrain("dp-reference", inDriver), "log " + it.workDir().resolve("dp-reference.log"));

        Path out = local.resolve("dp-spark");
        List<String> distributed = new ArrayList<>(train);
        distributed.addAll(List.of("--out", out.toString(), "--set", "train.distributed=spark"));
        AtomicLong killed = new AtomicLong(-1);
        Thread killer = new Thread(() -> killAnExecutorAfterTheFirstStep(out.resolve("metrics.jsonl"), killed));
        killer.setDaemon(true);
        killer.start();
        int code = submitTrain("dp-spark", distributed);
        killer.join(5_000);
        String log = Files.readString(it.workDir().resolve("dp-spark.log"));
        assertEquals(0, code, "log " + it.workDir().resolve("dp-spark.log"));
        assertTrue(log.contains("distributed: 4 micro-batches a step as Spark tasks"), "the steps ran on executors");
        assertTrue(killed.get() > 0, "an executor JVM was found and killed");
        assertTrue(log.contains("Lost executor") || log.contains("ExecutorLostFailure") || log.contains("removed"),
                "the driver saw executor " + killed.get() + " die: " + it.workDir().resolve("dp-spark.log"));

        String step4 = "checkpoints/step-000004/model";
        Map<String, INDArray> a = HfCheckpoint.load(reference.resolve(step4), DataType.DOUBLE).weights();
        Map<String, INDArray> b = HfCheckpoint.load(out.resolve(step4), DataType.DOUBLE).weights();
        double worst = 0;
        for (String name : a.keySet()) {
            worst = Math.max(worst, a.get(name).sub(b.get(name)).amaxNumber().doubleValue());
        }
        System.out.println("cluster-it: data-parallel run with executor " + killed.get() + " killed: largest weight "
                + "difference to the driver-only run " + worst);
        assertTrue(worst <= 1e-12, "weights differ by up to " + worst);
    }

    /** Waits for the first metrics line, then SIGKILLs one of this application's executor JVMs. */
    private static void killAnExecutorAfterTheFirstStep(Path metrics, AtomicLong killed) {
        long deadline = System.nanoTime() + 300_000_000_000L;
        try {
            while (System.nanoTime() < deadline) {
                if (Files.exists(metrics) && !Files.readAllLines(metrics).isEmpty()) {
                    ProcessHandle executor = ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                            .map(c -> c.contains("CoarseGrainedExecutorBackend")).orElse(false)).findFirst().orElse(null);
                    if (executor != null && executor.destroyForcibly()) {   // SIGKILL on Linux
                        killed.set(executor.pid());
                    }
                    return;
                }
                Thread.sleep(20);
            }
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** train-job.jar through SparkSubmit against the standalone Master: the trainer runs in the driver (client mode). */
    private int submitTrain(String name, List<String> args) throws Exception {
        List<String> cmd = spark.javaWithSpark("1g");
        cmd.addAll(List.of("org.apache.spark.deploy.SparkSubmit", "--master", spark.masterUrl(),
                "--class", "ai.chunkwise.train.cli.TrainCli", "--conf", "spark.executor.memory=512m",
                "--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                "--conf", "spark.driver.bindAddress=127.0.0.1", it.trainJar().toString()));
        cmd.addAll(args);
        long t0 = System.nanoTime();
        int code = processes.run(cmd, spark.env(), it.workDir(), it.workDir().resolve(name + ".log"), 420);
        System.out.printf("cluster-it: %s: exit %d in %.1f s%n", name, code, (System.nanoTime() - t0) / 1e9);
        return code;
    }

    /** The job in Spark's embedded local mode on the local copy of the corpus; returns the content digest. */
    private String localRun(String name, List<String> tokenizer) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(it.java(), "-Xmx512m", "-jar", it.tokenizeJar().toString(),
                "--master", "local[2]", "--input", local.resolve("corpus").toString(),
                "--output", local.resolve(name).toString()));
        cmd.addAll(GEOMETRY);
        cmd.addAll(tokenizer);
        Path log = it.workDir().resolve("local-" + name + ".log");
        assertEquals(0, processes.run(cmd, Map.of("OMP_NUM_THREADS", "1"), it.workDir(), log, 300), "log " + log);
        return digest(local.resolve(name));
    }

    /** org.apache.spark.deploy.SparkSubmit, exactly what bin/spark-submit runs, against the standalone Master. */
    private int submit(String name, List<String> sparkOptions, List<String> jobArgs) throws Exception {
        List<String> cmd = spark.javaWithSpark("512m");
        cmd.addAll(List.of("org.apache.spark.deploy.SparkSubmit", "--master", spark.masterUrl(), "--class", MAIN_CLASS,
                "--conf", "spark.executor.memory=512m", "--conf", "spark.ui.enabled=false",
                "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1"));
        cmd.addAll(sparkOptions);
        cmd.add(it.tokenizeJar().toString());
        cmd.addAll(jobArgs);
        cmd.addAll(GEOMETRY);
        long t0 = System.nanoTime();
        int code = processes.run(cmd, spark.env(), it.workDir(), it.workDir().resolve(name + ".log"), 420);
        System.out.printf("cluster-it: %s: exit %d in %.1f s%n", name, code, (System.nanoTime() - t0) / 1e9);
        return code;
    }

    private static String digest(Path dataset) throws IOException {
        return new ObjectMapper().readTree(DatasetInspector.summaryJson(dataset)).get("content_digest").asText();
    }

    private String readHdfs(String path) throws IOException {
        try (var in = hdfs.fs().open(new org.apache.hadoop.fs.Path(hdfs.url(path)))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void writeDocuments(Path file, int lines, long seed) throws IOException {
        Random r = new Random(seed);
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < lines; i++) {
            StringBuilder b = new StringBuilder();
            int words = 3 + r.nextInt(60);
            for (int w = 0; w < words; w++) {
                b.append(w == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
            }
            docs.add(b.toString());
        }
        Files.write(file, docs);
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
