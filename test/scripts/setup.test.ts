import assert from 'node:assert/strict';
import {
  BACKPORTS_PATH,
  backportsSource,
  cacheKey,
  debVersionsFrom,
  findDebianMirror,
  isCacheFresh,
  parseAptSources,
  parseOsRelease,
  planSetup,
  type MachineState,
} from '../../scripts/setup-plan.mjs';
import { probeAdapter } from '../../scripts/setup.mjs';

const BOOKWORM_SOURCES = `Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
`;

function machine(overrides: Partial<MachineState> = {}): MachineState {
  return {
    adapter: { status: 'ok', adapter: { vendor: 'mesa', architecture: '', description: '' } },
    hasTemplates: true,
    hasChromium: true,
    os: { id: 'debian', versionCodename: 'bookworm' },
    isRoot: true,
    hasAptGet: true,
    sources: parseAptSources([
      { path: '/etc/apt/sources.list.d/debian.sources', text: BOOKWORM_SOURCES },
    ]),
    ...overrides,
  };
}

const noAdapter = { status: 'no-adapter' as const, detail: 'requestAdapter() returned null' };

describe('setup: reading the machine', () => {
  it('parses os-release', () => {
    const os = parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\nVERSION_CODENAME=bookworm\n',
    );
    assert.deepEqual(os, { id: 'debian', versionCodename: 'bookworm' });
  });

  it('parses deb822 and one-line sources', () => {
    const sources = parseAptSources([
      { path: '/etc/apt/sources.list.d/debian.sources', text: BOOKWORM_SOURCES },
      {
        path: '/etc/apt/sources.list',
        text: 'deb [arch=amd64] http://old.example/debian bookworm main\n# deb x y\n',
      },
      {
        path: '/etc/apt/sources.list.d/off.sources',
        text: 'Enabled: no\nURIs: http://x\nSuites: sid\n',
      },
    ]);
    assert.equal(sources.length, 3);
    assert.deepEqual(sources[0]!.suites, ['bookworm', 'bookworm-updates']);
    assert.deepEqual(sources[2], {
      types: ['deb'],
      uris: ['http://old.example/debian'],
      suites: ['bookworm'],
    });
  });

  const mirrorCases = [
    {
      name: 'deb822 mirror',
      text: BOOKWORM_SOURCES,
      path: 'a.sources',
      expected: 'http://mirror.example/debian',
    },
    {
      name: 'one-line mirror',
      text: 'deb http://one.example/debian bookworm main',
      path: 'sources.list',
      expected: 'http://one.example/debian',
    },
    {
      name: 'security only',
      text: 'deb http://x/debian-security bookworm-security main',
      path: 'sources.list',
      expected: 'http://deb.debian.org/debian',
    },
    {
      name: 'no sources',
      text: '',
      path: 'sources.list',
      expected: 'http://deb.debian.org/debian',
    },
  ];
  for (const { name, text, path, expected } of mirrorCases) {
    it(`finds the mirror: ${name}`, () => {
      assert.equal(findDebianMirror(parseAptSources([{ path, text }]), 'bookworm'), expected);
    });
  }

  it('reads installed versions from dpkg status', () => {
    const status = [
      'Package: libvulkan1\nStatus: install ok installed\nVersion: 1.3.239.0-1',
      'Package: mesa-vulkan-drivers\nStatus: deinstall ok config-files\nVersion: 22.3.6-1',
      'Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13',
    ].join('\n\n');
    const versions = debVersionsFrom(status, ['libvulkan1', 'mesa-vulkan-drivers']);
    assert.deepEqual(versions, { libvulkan1: '1.3.239.0-1' });
  });
});

describe('setup: planning', () => {
  it('does nothing on a ready machine', () => {
    assert.deepEqual(planSetup(machine()), { steps: [], manual: [] });
  });

  it('installs no driver when a GPU adapter works', () => {
    const plan = planSetup(machine({ hasChromium: false }));
    const installs = plan.steps.filter(
      (step) => step.kind === 'apt-get' && step.args[0] === 'install',
    );
    assert.equal(installs.length, 1);
    assert.deepEqual(installs[0]!.kind === 'apt-get' && installs[0]!.args, [
      'install',
      '-y',
      'chromium',
    ]);
  });

  it('adds backports then installs Mesa on bookworm without an adapter', () => {
    const { steps, manual } = planSetup(machine({ adapter: noAdapter }));
    assert.deepEqual(manual, []);
    assert.deepEqual(
      steps.map((step) => step.kind),
      ['write-file', 'apt-get', 'apt-get'],
    );
    const [write, update, install] = steps;
    assert.ok(write!.kind === 'write-file');
    assert.equal(write!.path, BACKPORTS_PATH);
    assert.equal(write!.content, backportsSource('http://mirror.example/debian', 'bookworm'));
    assert.match(write!.content, /^Suites: bookworm-backports$/m);
    assert.match(
      write!.content,
      /^Signed-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg$/m,
    );
    assert.ok(update!.kind === 'apt-get');
    assert.ok(install!.kind === 'apt-get');
    assert.deepEqual(update!.args, ['update']);
    assert.deepEqual(install!.args, [
      'install',
      '-y',
      '-t',
      'bookworm-backports',
      'libvulkan1',
      'mesa-vulkan-drivers',
    ]);
  });

  it('reuses an existing backports source', () => {
    const text = `${BOOKWORM_SOURCES}\nTypes: deb\nURIs: http://m/debian\nSuites: bookworm-backports\n`;
    const sources = parseAptSources([{ path: 'debian.sources', text }]);
    const { steps } = planSetup(
      machine({ adapter: { status: 'failed', detail: 'timed out' }, sources }),
    );
    assert.deepEqual(
      steps.map((step) => step.kind),
      ['apt-get', 'apt-get'],
    );
  });

  it('installs data and browser in one apt call', () => {
    const { steps } = planSetup(machine({ hasTemplates: false, hasChromium: false }));
    assert.equal(steps.length, 2);
    assert.ok(steps[1]!.kind === 'apt-get');
    assert.deepEqual(steps[1]!.args, ['install', '-y', 'mricron-data', 'chromium']);
  });

  const manualCases: { name: string; state: Partial<MachineState>; pattern: RegExp }[] = [
    {
      name: 'not root',
      state: { isRoot: false, adapter: noAdapter },
      pattern: /apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers/,
    },
    {
      name: 'no apt-get',
      state: { hasAptGet: false, hasTemplates: false },
      pattern: /apt-get install mricron-data/,
    },
    {
      name: 'Ubuntu',
      state: { os: { id: 'ubuntu', versionCodename: 'noble' }, adapter: noAdapter },
      pattern: /Mesa 24 or later/,
    },
    {
      name: 'Debian 11',
      state: { os: { id: 'debian', versionCodename: 'bullseye' }, adapter: noAdapter },
      pattern: /Vulkan driver/,
    },
    {
      name: 'webgpu package missing',
      state: { adapter: { status: 'no-package', detail: 'not found' } },
      pattern: /npm install/,
    },
  ];
  for (const { name, state, pattern } of manualCases) {
    it(`prints what to install: ${name}`, () => {
      const { steps, manual } = planSetup(machine(state));
      assert.deepEqual(steps, []);
      assert.equal(manual.length, 1);
      assert.match(manual[0]!, pattern);
    });
  }
});

describe('setup: cache', () => {
  const parts = {
    nodeVersion: 'v20.20.2',
    webgpuVersion: '0.6.2',
    debVersions: { 'mesa-vulkan-drivers': '25.0.7-2~bpo12+1' },
  };
  const key = cacheKey(parts);
  const present = { hasTemplates: true, hasChromium: true };

  it('accepts a matching successful check', () => {
    assert.equal(isCacheFresh({ ok: true, key }, key, present), true);
  });

  const staleCases = [
    { name: 'no cache', cache: null, env: present },
    {
      name: 'other webgpu version',
      cache: { ok: true, key: cacheKey({ ...parts, webgpuVersion: '0.6.1' }) },
      env: present,
    },
    {
      name: 'other Mesa version',
      cache: { ok: true, key: cacheKey({ ...parts, debVersions: {} }) },
      env: present,
    },
    { name: 'chromium removed', cache: { ok: true, key }, env: { ...present, hasChromium: false } },
  ];
  for (const { name, cache, env } of staleCases) {
    it(`rejects a stale cache: ${name}`, () => {
      assert.equal(isCacheFresh(cache, key, env), false);
    });
  }
});

describe('setup: adapter probe', () => {
  it('finds the adapter of this machine', async () => {
    const result = await probeAdapter();
    assert.equal(result.status, 'ok', result.detail);
    assert.equal(typeof result.adapter?.vendor, 'string');
  });

  it('times out a probe that hangs', async () => {
    const result = await probeAdapter(1);
    assert.equal(result.status, 'failed');
    assert.match(result.detail!, /timed out after 1 ms/);
  });
});
