// Command pulumi-language-python is a small Python language host for the Pulumi
// engine, built from the published github.com/pulumi/pulumi/sdk/v3 module.
//
// The upstream host lives in its own nested module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), which the
// Go module proxy does not serve, so this project builds this one instead. It
// implements what `pulumi up/preview/destroy`, `pulumi install` and the
// Automation API need for a pip/uv/poetry project:
//
//   - Run executes the program through the SDK's own `pulumi-language-python-exec`
//     (copied next to this binary by the install script) with the Python of the
//     project's toolchain (the `virtualenv` / `toolchain` runtime options);
//   - GetRequiredPackages/GetRequiredPlugins report the provider plugins named by
//     the `pulumi-plugin.json` files of the installed Python packages;
//   - InstallDependencies creates the virtualenv and installs requirements.txt;
//   - RunPlugin runs a plugin written in Python, such as a policy pack for
//     `pulumi preview --policy-pack DIR`, in its own virtualenv;
//   - GetPluginInfo, About, GetProgramDependencies and Handshake.
//
// Code generation, templates and typecheckers are not implemented.
package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

const (
	execName = "pulumi-language-python-exec"
	// Exit code of the exec script after it has already shown the user an error.
	bailExitCode = 32
)

func main() {
	var tracing, root, givenExec string
	flag.StringVar(&tracing, "tracing", "", "Emit tracing to a Zipkin-compatible tracing endpoint")
	flag.StringVar(&root, "root", "", "Project root path to use")
	flag.StringVar(&givenExec, "use-executor", "", "Use the given program as the executor")
	// Accepted for compatibility with older engines; options now arrive in ProgramInfo.
	flag.String("virtualenv", "", "ignored")
	flag.String("toolchain", "", "ignored")
	flag.String("typechecker", "", "ignored")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-python", "pulumi-language-python", tracing)

	execPath := givenExec
	if execPath == "" {
		self, err := os.Executable()
		if err != nil {
			cmdutil.Exit(fmt.Errorf("could not determine current executable: %w", err))
		}
		execPath = filepath.Join(filepath.Dir(self), execName)
	}
	if _, err := os.Stat(execPath); err != nil {
		cmdutil.Exit(fmt.Errorf("missing executor %s: %w", execPath, err))
	}

	engineAddress := ""
	if args := flag.Args(); len(args) > 0 {
		engineAddress = args[0]
	}
	h := &host{exec: execPath, engineAddress: engineAddress, tracing: tracing, root: root}

	// The engine stops a language host with SIGINT, and kills it only 5 s later. A shell starts
	// the commands it runs in the background with SIGINT ignored, and an ignored signal stays
	// ignored across exec: without a handler of its own, the host of every `pulumi up` or
	// `preview` started that way (scripts, CI steps, nohup) took those 5 s to go.
	interrupted, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cancel := make(chan bool)
	go func() {
		<-interrupted.Done()
		stop()
		close(cancel)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
		Cancel:  cancel,
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start language host RPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host RPC stopped serving: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	exec    string
	tracing string

	mu            sync.Mutex
	engineAddress string
	root          string
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.engineAddress = req.GetEngineAddress()
	if req.RootDirectory != nil {
		h.root = req.GetRootDirectory()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// resolve returns the Python toolchain selected by the project's runtime options.
func (h *host) resolve(info *pulumirpc.ProgramInfo, fallbackDir string) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Toolchain: toolchain.Auto}
	if info != nil {
		opts.Root = info.GetRootDirectory()
		opts.ProgramDir = info.GetProgramDirectory()
		fields := info.GetOptions().GetFields()
		if v, ok := fields["virtualenv"]; ok {
			opts.Virtualenv = v.GetStringValue()
		}
		if v, ok := fields["toolchain"]; ok {
			switch strings.ToLower(v.GetStringValue()) {
			case "", "auto":
			case "pip":
				opts.Toolchain = toolchain.Pip
			case "uv":
				opts.Toolchain = toolchain.Uv
			case "poetry":
				opts.Toolchain = toolchain.Poetry
			default:
				return nil, fmt.Errorf("unsupported toolchain %q", v.GetStringValue())
			}
		}
	}
	if opts.Root == "" {
		h.mu.Lock()
		opts.Root = h.root
		h.mu.Unlock()
	}
	if opts.Root == "" {
		opts.Root = fallbackDir
	}
	if opts.ProgramDir == "" {
		opts.ProgramDir = fallbackDir
	}
	if opts.ProgramDir == "" {
		opts.ProgramDir = opts.Root
	}
	return toolchain.ResolveToolchain(opts)
}

// pluginJSON is the pulumi-plugin.json file that every provider SDK package ships.
type pluginJSON struct {
	Resource         bool   `json:"resource"`
	Name             string `json:"name"`
	Version          string `json:"version"`
	Server           string `json:"server"`
	Parameterization *struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Value   string `json:"value"`
	} `json:"parameterization"`
}

// listPluginsScript prints the pulumi-plugin.json of every package the program can import: a
// provider SDK ships it at the root of its package, and the interpreter's path is where imports
// come from (site-packages, and the paths .pth files add for editable installs). Globbing those
// package roots takes a few milliseconds, where reading the RECORD of every installed distribution
// with importlib.metadata takes ten times longer than the interpreter's start, on every
// preview, up and destroy. sys.path[0] is the working directory of `-c`, not an install.
const listPluginsScript = `
import glob, json, os, sys
out = []
for entry in sys.path[1:]:
    for name in ("pulumi-plugin.json", "pulumiplugin.json"):
        for path in sorted(glob.glob(os.path.join(glob.escape(entry), "*", name))):
            try:
                with open(path) as fh:
                    out.append(json.load(fh))
            except (OSError, ValueError):
                pass
print(json.dumps(out))
`

// runScript runs a Python snippet with the project's interpreter and returns what it printed.
func (h *host) runScript(ctx context.Context, info *pulumirpc.ProgramInfo, dir, script, purpose string,
) ([]byte, error) {
	tc, err := h.resolve(info, dir)
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", script)
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %s", purpose, err, stderr.String())
	}
	return out, nil
}

func (h *host) packages(ctx context.Context, info *pulumirpc.ProgramInfo, dir string,
) ([]*pulumirpc.PackageDependency, error) {
	out, err := h.runScript(ctx, info, dir, listPluginsScript, "listing Python packages")
	if err != nil {
		return nil, err
	}
	var plugins []pluginJSON
	if err := json.Unmarshal(out, &plugins); err != nil {
		return nil, fmt.Errorf("parsing the list of Python packages: %w", err)
	}
	seen := map[string]bool{}
	var deps []*pulumirpc.PackageDependency
	for _, p := range plugins {
		if !p.Resource || p.Name == "" || p.Version == "" {
			continue
		}
		v := p.Version
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		dep := &pulumirpc.PackageDependency{Kind: "resource", Name: p.Name, Version: v, Server: p.Server}
		key := p.Name + "@" + v
		if p.Parameterization != nil {
			value, err := base64.StdEncoding.DecodeString(p.Parameterization.Value)
			if err != nil {
				return nil, fmt.Errorf("decoding parameterization of %s: %w", p.Name, err)
			}
			dep.Parameterization = &pulumirpc.PackageParameterization{
				Name: p.Parameterization.Name, Version: p.Parameterization.Version, Value: value,
			}
			key += "/" + p.Parameterization.Name + "@" + p.Parameterization.Version
		}
		if !seen[key] {
			seen[key] = true
			deps = append(deps, dep)
		}
	}
	return deps, nil
}

func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := h.packages(ctx, req.GetInfo(), "")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *host) GetRequiredPlugins(ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := h.packages(ctx, req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, d := range deps {
		if d.Parameterization == nil {
			plugins = append(plugins, &pulumirpc.PluginDependency{
				Name: d.Name, Kind: d.Kind, Version: d.Version, Server: d.Server,
			})
		}
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	pwd := req.GetPwd()
	program := req.GetProgram()
	root := ""
	if info != nil {
		if info.GetProgramDirectory() != "" {
			pwd = info.GetProgramDirectory()
		}
		if info.GetEntryPoint() != "" {
			program = info.GetEntryPoint()
		}
		root = info.GetRootDirectory()
	}
	if program == "" {
		program = "."
	}
	tc, err := h.resolve(info, pwd)
	if err != nil {
		return nil, err
	}

	h.mu.Lock()
	engine := h.engineAddress
	if root == "" {
		root = h.root
	}
	h.mu.Unlock()

	args := []string{h.exec}
	add := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k, v)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", engine)
	add("project", req.GetProject())
	add("root_directory", root)
	add("stack", req.GetStack())
	add("pwd", pwd)
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	configMap := req.GetConfig()
	if configMap == nil {
		configMap = map[string]string{}
	}
	config, err := json.Marshal(configMap)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("failed to serialize configuration secret keys: %w", err)
	}

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	cmd.Dir = pwd
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr

	runErr := cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if runErr == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(runErr, &exitErr) {
		if exitErr.ExitCode() == bailExitCode {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("problem executing program (could not run language executor): %v", runErr),
	}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// chunkWriter forwards what a child process writes to the engine, one message per write.
type chunkWriter func([]byte) error

func (w chunkWriter) Write(p []byte) (int, error) {
	if err := w(append([]byte(nil), p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	dir := req.GetDirectory()
	if info := req.GetInfo(); info != nil && info.GetProgramDirectory() != "" {
		dir = info.GetProgramDirectory()
	}
	tc, err := h.resolve(req.GetInfo(), dir)
	if err != nil {
		return err
	}
	var out, errOut io.Writer = chunkWriter(func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}), chunkWriter(func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	})
	return tc.InstallDependencies(server.Context(), dir, req.GetUseLanguageVersionTools(),
		true /*showOutput*/, out, errOut)
}

// RunPlugin runs the plugin in the request's program directory, whose PulumiPolicy.yaml or
// PulumiPlugin.yaml names this runtime, with the engine's environment. A policy pack (kind
// "analyzer") runs through the SDK's pulumi.policy module, which takes the engine's address and
// the pack's directory, applies the stack's config and settings and runs the pack's __main__.py;
// any other plugin runs as `python -u DIR ARGS...`. The interpreter is the one of the plugin's own
// `virtualenv` option, created from its requirements.txt on first use, as for a program. A plugin
// prints its port as the first line of stdout, hence -u, and the install's output goes to stderr.
// The engine cancels the request to stop the plugin, which kills the process.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	ctx := server.Context()
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		return errors.New("RunPlugin needs the plugin's directory (ProgramInfo.program_directory)")
	}
	tc, err := h.resolve(info, dir)
	if err != nil {
		return err
	}
	// The copies of the plugin's stdout and stderr run concurrently; a gRPC stream takes one Send
	// at a time.
	var mu sync.Mutex
	send := func(resp *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return server.Send(resp)
	}
	stdout := chunkWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	})
	stderr := chunkWriter(func(b []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	})
	if err := tc.EnsureVenv(ctx, dir, false, true, stderr, stderr); err != nil {
		return fmt.Errorf("preparing the virtualenv of the plugin in %s: %w", dir, err)
	}
	args := append([]string{"-u", dir}, req.GetArgs()...)
	if req.GetKind() == string(apitype.AnalyzerPlugin) {
		args = append(append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...), dir)
	}
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return err
	}
	if environ := req.GetEnv(); len(environ) > 0 {
		cmd.Env = environ
		if venv, err := tc.VirtualEnvPath(ctx); err == nil && venv != "" {
			cmd.Env = toolchain.ActivateVirtualEnv(environ, venv)
		}
	}
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = stdout, stderr

	code := int32(0)
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("running the plugin in %s: %w", dir, err)
		}
		code = int32(exitErr.ExitCode())
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// aboutScript prints what the engine records of the interpreter with every update. One
// interpreter start: the toolchain's About starts three, one of them `pip --version`, which takes
// longer than the other two together and whose answer the engine does not ask for.
const aboutScript = "import platform, sys; print(sys.executable); print(platform.python_version())"

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	out, err := h.runScript(ctx, req.GetInfo(), "", aboutScript, "asking the Python interpreter about itself")
	if err != nil {
		return nil, err
	}
	executable, pythonVersion, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	parsed, err := toolchain.ParsePythonVersion(pythonVersion)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{Executable: executable, Version: parsed.String()}, nil
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := h.resolve(req.GetInfo(), req.GetPwd())
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(pkgs))
	for _, p := range pkgs {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
