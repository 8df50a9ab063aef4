package ai.chunkwise.cluster;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A Spark standalone cluster of separate JVMs on 127.0.0.1: one Master and two Workers (one core each), started
 * from the Spark jars the build copies to tokenize-job/target/lib (no downloaded distribution). The Workers need a
 * SPARK_HOME whose jars/ holds those jars to build their executors' class path, and SPARK_SCALA_VERSION=2.13.
 */
final class StandaloneSpark implements AutoCloseable {
    static final int WORKERS = 2;

    private final ItSettings it;
    private final ChildProcesses processes;
    private final Path home;
    private final int masterPort;
    private final List<Process> daemons = new ArrayList<>();

    private StandaloneSpark(ItSettings it, ChildProcesses processes, Path home, int masterPort) {
        this.it = it;
        this.processes = processes;
        this.home = home;
        this.masterPort = masterPort;
    }

    static StandaloneSpark start(ItSettings it, ChildProcesses processes) throws IOException, InterruptedException {
        Path home = Files.createDirectories(it.workDir().resolve("spark-home"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        try (Stream<Path> s = Files.list(it.sparkJars())) {
            for (Path jar : s.filter(p -> p.toString().endsWith(".jar")).toList()) {
                Path link = jars.resolve(jar.getFileName());
                if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, jar);
                }
            }
        }
        StandaloneSpark spark = new StandaloneSpark(it, processes, home, ChildProcesses.freePort());
        int masterUi = ChildProcesses.freePort();
        spark.daemons.add(processes.start(spark.daemon("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                "--port", String.valueOf(spark.masterPort), "--webui-port", String.valueOf(masterUi)),
                spark.env(), home, it.workDir().resolve("master.log")));
        for (int w = 1; w <= WORKERS; w++) {
            Path workDir = Files.createDirectories(it.workDir().resolve("worker-" + w));
            spark.daemons.add(processes.start(spark.daemon("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                    "--port", String.valueOf(ChildProcesses.freePort()),
                    "--webui-port", String.valueOf(ChildProcesses.freePort()), "--cores", "1", "--memory", "1g",
                    "--work-dir", workDir.toString(), spark.masterUrl()), spark.env(), home,
                    it.workDir().resolve("worker-" + w + ".log")));
        }
        spark.awaitWorkers(masterUi);
        return spark;
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    Path home() {
        return home;
    }

    /** The environment of every Spark process: loopback only, this SPARK_HOME, Scala 2.13. */
    Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("SPARK_HOME", home.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_HOSTNAME", "127.0.0.1");
        env.put("OMP_NUM_THREADS", "1");
        return env;
    }

    /** java with Spark's jars and the --add-opens flags that spark-class would add. */
    List<String> javaWithSpark(String heap) {
        List<String> cmd = new ArrayList<>(List.of(it.java(), "-Xmx" + heap));
        cmd.addAll(it.jvmOpens());
        cmd.add("-cp");
        cmd.add(home.resolve("jars") + File.separator + "*");
        return cmd;
    }

    private List<String> daemon(String mainClass, String... args) {
        List<String> cmd = javaWithSpark("256m");
        cmd.add(mainClass);
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Polls the Master's JSON status page until both Workers are registered. */
    private void awaitWorkers(int masterUi) throws InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Pattern alive = Pattern.compile("\"aliveworkers\"\\s*:\\s*(\\d+)");
        long deadline = System.nanoTime() + 180_000_000_000L;
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            for (Process d : daemons) {
                if (!d.isAlive()) {
                    throw new AssertionError("a Spark daemon exited with " + d.exitValue() + "; logs in " + it.workDir());
                }
            }
            try {
                String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUi + "/json/"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = alive.matcher(body);
                if (m.find() && Integer.parseInt(m.group(1)) >= WORKERS) {
                    return;
                }
                last = body;
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(500);
        }
        throw new AssertionError("the Spark Workers did not register with the Master in 180 s (" + last
                + "); logs in " + it.workDir());
    }

    @Override
    public void close() {
        for (Process d : daemons) {
            ChildProcesses.kill(d);
        }
    }
}
