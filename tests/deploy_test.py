#!/usr/bin/env python3
"""Checks deploy/ (the cluster install) against the programs it runs, client-side, since no
Kubernetes cluster can run here:

- the ClusterRole is the one scripts/make_clusterrole.py makes from control/agent/rbac.json (the
  agent's integration tests fail on any request rbac.json does not list, so the role grants
  exactly what the agent uses);
- `kubectl kustomize deploy/` (kubectl's own parser, offline) reads every manifest, and each object
  has what the install needs (namespaces, the service account bound to the role, the DaemonSet's
  host network, privileges, hugepages, mounts, probes, downward API);
- every flag the manifests and entrypoint give podvsd, podvsctl and podvs-agent is one the built
  program accepts, and podvsd itself (--check-config) accepts the ConfigMap's podvsd.yaml;
- the conflist is what podvs-cni and its chained plugins take, and install-cni.sh installs it and
  the plugins into a CNI folder layout;
- the Dockerfile's packages exist in Debian 12, and its runtime stage provides every shared
  library the four binaries load.

usage: deploy_test.py BUILD_DIR SOURCE_DIR
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

BUILD = pathlib.Path(sys.argv[1]).resolve()
TOP = pathlib.Path(sys.argv[2]).resolve()
DEPLOY = TOP / 'deploy'
failures = []
checks = 0


def check(name, ok, detail=''):
    global checks
    checks += 1
    if not ok:
        failures.append(f'{name}: {detail}' if detail else name)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


# --- the ClusterRole is generated from rbac.json ---
r = run([sys.executable, str(TOP / 'scripts/make_clusterrole.py'), '--check'])
check('deploy/20-clusterrole.yaml is make_clusterrole.py\'s output', r.returncode == 0, r.stderr)

# --- kubectl's parser reads every manifest ---
kubectl = shutil.which('kubectl')
check('kubectl is installed (scripts/setup.sh installs kubernetes-client)', kubectl is not None)
if kubectl:
    r = run([kubectl, 'kustomize', str(DEPLOY)])
    check('kubectl kustomize deploy/', r.returncode == 0, r.stderr.strip())
    rendered = list(yaml.safe_load_all(r.stdout)) if r.returncode == 0 else []
else:
    rendered = []
listed = yaml.safe_load((DEPLOY / 'kustomization.yaml').read_text())['resources']
on_disk = sorted(p.name for p in DEPLOY.glob('*.yaml') if p.name != 'kustomization.yaml')
check('kustomization.yaml lists every manifest', sorted(listed) == on_disk, f'{listed} vs {on_disk}')
objects = {}
for path in on_disk:
    for obj in yaml.safe_load_all((DEPLOY / path).read_text()):
        objects[(obj['kind'], obj['metadata']['name'])] = obj
check('kubectl renders as many objects as the files hold', len(rendered) == len(objects),
      f'{len(rendered)} vs {len(objects)}')
kinds = sorted(k for k, _ in objects)
check('the install has its six kinds', kinds == sorted(
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet']),
    str(kinds))

ns = objects[('Namespace', 'podvs-system')]['metadata']['name']
sa = objects[('ServiceAccount', 'podvs-agent')]
crb = objects[('ClusterRoleBinding', 'podvs-agent')]
check('the binding names the role', crb['roleRef'] == {
    'apiGroup': 'rbac.authorization.k8s.io', 'kind': 'ClusterRole', 'name': 'podvs-agent'})
check('the binding names the service account', crb['subjects'] == [
    {'kind': 'ServiceAccount', 'name': 'podvs-agent', 'namespace': ns}])
check('the service account is in the namespace', sa['metadata']['namespace'] == ns)

# --- the DaemonSet ---
ds = objects[('DaemonSet', 'podvs')]
spec = ds['spec']['template']['spec']
check('DaemonSet in the namespace', ds['metadata']['namespace'] == ns)
check('selector matches the template', ds['spec']['selector']['matchLabels'].items()
      <= ds['spec']['template']['metadata']['labels'].items())
check('host network', spec.get('hostNetwork') is True)
check('runs as the agent\'s service account', spec.get('serviceAccountName') == 'podvs-agent')
check('tolerates every taint (a CNI runs on every node)', {'operator': 'Exists'} in spec['tolerations'])
containers = {c['name']: c for c in spec['containers']}
check('podvsd and podvs-agent containers', sorted(containers) == ['podvs-agent', 'podvsd'])
podvsd, agent = containers.get('podvsd', {}), containers.get('podvs-agent', {})
check('podvsd is privileged', podvsd.get('securityContext', {}).get('privileged') is True)
res = podvsd.get('resources', {})
check('hugepages requested and limited alike',
      res.get('requests', {}).get('hugepages-2Mi') == res.get('limits', {}).get('hugepages-2Mi') is not None)
volumes = {v['name']: v for v in spec['volumes']}
check('hugepages volume', volumes.get('hugepages', {}).get('emptyDir', {}).get('medium') == 'HugePages-2Mi')
host_paths = {v['hostPath']['path'] for v in spec['volumes'] if 'hostPath' in v}
for path in ['/run/podvs', '/var/lib/podvs', '/var/run/netns', '/opt/cni/bin', '/etc/cni/net.d']:
    check(f'host path {path} mounted', path in host_paths)
mounts = {m['mountPath']: m for m in podvsd.get('volumeMounts', [])}
for path in ['/dev/hugepages', '/run/podvs', '/var/lib/podvs', '/var/run/netns']:
    check(f'podvsd mounts {path}', path in mounts)
check('pods\' namespaces propagate into podvsd',
      mounts.get('/var/run/netns', {}).get('mountPropagation') == 'HostToContainer')
check('podvs-agent shares podvsd\'s socket folder',
      '/run/podvs' in {m['mountPath'] for m in agent.get('volumeMounts', [])})
env = {e['name']: e for e in agent.get('env', [])}
check('NODE_NAME from the downward API',
      env.get('NODE_NAME', {}).get('valueFrom', {}).get('fieldRef', {}).get('fieldPath') == 'spec.nodeName')
for name, c in containers.items():
    check(f'{name} has a liveness probe', 'livenessProbe' in c)
init = {c['name']: c for c in spec.get('initContainers', [])}
check('an init container installs the CNI plugin', 'install-cni' in init)

# --- flags given to the programs exist ---
def help_text(program):
    r = run([str(BUILD / program), '--help'])
    return r.stdout + r.stderr

def flags_in(args):
    return [a.split('=')[0] for a in args if a.startswith('--')]

agent_help = help_text('podvs-agent')
for flag in flags_in(agent['command'][1:]):
    check(f'podvs-agent takes {flag}', re.search(rf'{re.escape(flag)}\b', agent_help) is not None)
podvsctl_help = help_text('podvsctl')
probe = podvsd['livenessProbe']['exec']['command']
check('the podvsd probe runs podvsctl', probe[0].endswith('/podvsctl'))
for flag in flags_in(probe[1:]):
    check(f'podvsctl takes {flag}', re.search(rf'{re.escape(flag)}\b', podvsctl_help) is not None)
start = (DEPLOY / 'image/podvsd-start.sh').read_text()
podvsd_help = help_text('podvsd')
for flag in sorted(set(re.findall(r'(--[a-z][a-z-]+)', start))):
    if flag in ('--config',) or flag in podvsd_help:
        continue
    check(f'podvsd takes {flag} (podvsd-start.sh)', False)

# --- podvsd accepts the ConfigMap's config; the conflist is podvs-cni's ---
config_map = objects[('ConfigMap', 'podvs-config')]['data']
with tempfile.TemporaryDirectory() as tmp:
    conf = pathlib.Path(tmp) / 'podvsd.yaml'
    conf.write_text(config_map['podvsd.yaml'])
    r = run([str(BUILD / 'podvsd'), '--config', str(conf), '--check-config'])
    check('podvsd --check-config accepts the ConfigMap', r.returncode == 0, r.stdout + r.stderr)
    podvsd_yaml = yaml.safe_load(config_map['podvsd.yaml'])
    conflist = json.loads(config_map['10-podvs.conflist'])
    plugins = conflist['plugins']
    check('podvs-cni is the first plugin', plugins[0]['type'] == 'podvs-cni')
    check('podvs-cni talks to podvsd\'s socket', plugins[0].get('socket') == podvsd_yaml['socket'])
    # install-cni.sh into a CNI layout, with the built plugin and Debian's chained plugins.
    root = pathlib.Path(tmp)
    (root / 'config').mkdir()
    (root / 'config/10-podvs.conflist').write_text(config_map['10-podvs.conflist'])
    r = run(['sh', str(DEPLOY / 'image/install-cni.sh')], env=dict(
        os.environ, CNI_BIN_DIR=str(root / 'bin'), CNI_CONF_DIR=str(root / 'net.d'),
        PODVS_CONFLIST=str(root / 'config/10-podvs.conflist'),
        PODVS_CNI_BINARY=str(BUILD / 'cni-shim/podvs-cni')))
    check('install-cni.sh runs', r.returncode == 0, r.stdout + r.stderr)
    for plugin in plugins:
        target = root / 'bin' / plugin['type']
        check(f'{plugin["type"]} installed and executable', os.access(target, os.X_OK))
    installed = root / 'net.d/10-podvs.conflist'
    check('conflist installed', installed.exists() and json.loads(installed.read_text()) == conflist)
    # podvs-cni answers VERSION with the conflist's version among those it supports.
    r = run([str(root / 'bin/podvs-cni')], input=json.dumps({'cniVersion': conflist['cniVersion']}),
            env=dict(os.environ, CNI_COMMAND='VERSION'))
    versions = json.loads(r.stdout).get('supportedVersions', []) if r.returncode == 0 else []
    check('podvs-cni supports the conflist\'s version', conflist['cniVersion'] in versions, r.stdout + r.stderr)
for script in ['podvsd-start.sh', 'install-cni.sh']:
    r = run(['sh', '-n', str(DEPLOY / 'image' / script)])
    check(f'{script} parses', r.returncode == 0, r.stderr)

# --- the Dockerfile ---
dockerfile = (DEPLOY / 'image/Dockerfile').read_text().replace('\\\n', ' ')
stages = dockerfile.split('\nFROM ')[1:]
def packages(stage, with_recommends=None):
    """The packages a stage's apt-get install lines name; with_recommends=True/False: only those
    of lines that do / do not pass --no-install-recommends."""
    names = []
    for m in re.finditer(r'apt-get install ([^&\n]*)', stage):
        words = m.group(1).split()
        if with_recommends is not None and ('--no-install-recommends' not in words) != with_recommends:
            continue
        names += [w for w in words if not w.startswith('-')]
    return names
build_pkgs, runtime_pkgs = packages(stages[0]), packages(stages[-1])
check('two stages: build and runtime', len(stages) == 2 and build_pkgs and runtime_pkgs)
apt_cache = shutil.which('apt-cache')
if apt_cache:
    r = run([apt_cache, 'show', '--no-all-versions'] + build_pkgs + runtime_pkgs)
    known = set(re.findall(r'^Package: (\S+)$', r.stdout, re.M))
    for p in build_pkgs + runtime_pkgs:
        check(f'Debian has the package {p}', p in known)
    # Every library the binaries load belongs to a package the runtime stage installs (or one
    # those depend on).
    def closure(names, recommends):
        if not names:
            return set()
        r = run([apt_cache, 'depends', '--recurse', '--no-suggests', '--no-conflicts', '--no-breaks',
                 '--no-replaces', '--no-enhances'] + ([] if recommends else ['--no-recommends']) + names)
        return set(re.findall(r'^(\S+)$', r.stdout, re.M)) | set(names)
    # A line without --no-install-recommends (dpdk's: its drivers are recommends) brings those too.
    provided = closure(packages(stages[-1], True), True) | closure(packages(stages[-1], False), False)
    binaries = ['podvsd', 'podvsctl', 'podvs-agent', 'cni-shim/podvs-cni']
    libs = set()
    for b in binaries:
        r = run(['ldd', str(BUILD / b)])
        libs |= set(re.findall(r'^\s*(\S+\.so[.\d]*) => ', r.stdout, re.M))
    # A sanitizer build (CI runs this test in one too) links the sanitizers' runtimes; the image
    # is a release build without them.
    libs = {lib for lib in libs if not re.match(r'lib(asan|ubsan|tsan|lsan)\.so', lib)}
    # What `dpkg -S` answers, read from dpkg's file lists at once (dpkg -S reads them all per call).
    owners = {}
    for listing in pathlib.Path('/var/lib/dpkg/info').glob('*.list'):
        package = listing.stem.split(':')[0]
        for path in listing.read_text(errors='replace').split('\n'):
            name = path.rsplit('/', 1)[-1]
            if name in libs:
                owners.setdefault(name, set()).add(package)
    for lib in sorted(libs):
        check(f'{lib} is in the runtime image', bool(owners.get(lib, set()) & provided),
              f'owned by {sorted(owners.get(lib, set()))}')
    copied = re.findall(r'COPY --from=build (.*) /usr/local/', dockerfile)
    for b in ' '.join(copied).split():
        check(f'{b} is built', (BUILD / b.removeprefix('/build/')).exists())

readme = (TOP / 'README.md').read_text()
check('README has the cluster install', '## Deploy on a cluster' in readme and
      'kubectl apply -k deploy/' in readme)

for f in failures:
    print('FAIL', f)
print(f'deploy_test: {checks - len(failures)} of {checks} checks passed')
sys.exit(1 if failures else 0)
