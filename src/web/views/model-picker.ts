// The model picker: the models this page offers (the site's embedded organisms, or the server's),
// a local model folder (File System Access where the browser has it, else a folder <input>), and a
// Hugging Face hub id when online. Shows loading progress and why a model cannot be opened (too
// big for the browser, no tokenizer, unsupported architecture).

import type { ModelChoice } from '../app/connect.js';
import { h } from '../app/dom.js';
import { formatBytes } from '../app/limits.js';
import { touched, type AppState, type Store } from '../app/state.js';
import type { ModelOrigin } from '../protocol.js';

export interface PickerActions {
  open(choice: ModelChoice): void;
  /** Local folders and hub repos run in the browser only. */
  canOpenLocal(): boolean;
}

type DirectoryPicker = () => Promise<FileSystemDirectoryHandle>;

export class ModelPicker {
  readonly element = h('div', { class: 'model-picker' });
  private readonly select = h('select', { id: 'model-select', 'aria-label': 'model' });
  private readonly folderInput = h('input', { type: 'file', hidden: true, webkitdirectory: true, multiple: true });
  private readonly folderButton = h('button', { type: 'button' }, 'Open folder…');
  private readonly hubInput = h('input', { type: 'text', placeholder: 'hub id, e.g. gpt2', spellcheck: 'false', 'aria-label': 'Hugging Face hub id', size: 16 });
  private readonly hubButton = h('button', { type: 'button' }, 'Load');
  private readonly status = h('div', { class: 'model-status', role: 'status' });
  private readonly progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'model loading progress' });

  constructor(private readonly store: Store, private readonly actions: PickerActions) {
    this.select.addEventListener('change', () => {
      const choice = store.get().models.find((c) => c.id === this.select.value);
      if (choice) actions.open(choice);
    });
    this.folderButton.addEventListener('click', () => void this.pickFolder());
    this.folderInput.addEventListener('change', () => {
      const files = [...(this.folderInput.files ?? [])];
      if (files.length === 0) return;
      const name = files[0].webkitRelativePath.split('/')[0] || 'local folder';
      this.openLocal(name, { kind: 'files', name, files }, files.reduce((sum, f) => sum + (f.name.endsWith('.safetensors') ? f.size : 0), 0));
    });
    const loadHub = () => {
      const repoId = this.hubInput.value.trim();
      if (!repoId) return;
      if (this.actions.canOpenLocal()) this.openLocal(repoId, { kind: 'hub', repoId }, 0, 'hub');
      else actions.open({ id: repoId, label: repoId, source: 'server', sizeBytes: 0, fits: true, origin: null });
    };
    this.hubButton.addEventListener('click', loadHub);
    this.hubInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') loadHub();
    });
    const online = () => {
      this.hubButton.disabled = !navigator.onLine;
      this.hubInput.title = navigator.onLine ? 'a Hugging Face model repo (config.json, model.safetensors, tokenizer.json)' : 'offline: hub models need the network';
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', online);
    online();
    this.element.append(
      h('label', { class: 'picker-field' }, h('span', { class: 'field-label' }, 'Model'), this.select),
      this.folderButton, this.folderInput,
      h('span', { class: 'hub' }, this.hubInput, this.hubButton),
      h('div', { class: 'model-status-line' }, this.progress, this.status));
  }

  update(state: Readonly<AppState>, changed: ReadonlySet<keyof AppState>): void {
    if (touched(changed, 'models', 'model')) this.fillSelect(state);
    if (touched(changed, 'modelStatus')) {
      const status = state.modelStatus;
      this.status.textContent = status.message;
      this.status.className = `model-status ${status.state}`;
      this.progress.hidden = status.state !== 'loading';
      if (status.fraction !== undefined) this.progress.value = status.fraction;
      else this.progress.removeAttribute('value');
    }
    this.folderButton.hidden = !this.actions.canOpenLocal();
  }

  private fillSelect(state: Readonly<AppState>): void {
    const groups = new Map<string, HTMLOptGroupElement>();
    const names: Record<string, string> = { embedded: 'Shipped with this site', server: 'On the server', local: 'Opened here', hub: 'Hugging Face hub' };
    for (const choice of state.models) {
      const group = groups.get(choice.source) ?? h('optgroup', { label: names[choice.source] ?? choice.source });
      groups.set(choice.source, group);
      const size = choice.sizeBytes > 0 ? ` (${formatBytes(choice.sizeBytes)})` : '';
      group.append(h('option', { value: choice.id, selected: choice.id === state.model }, `${choice.label}${size}${choice.fits ? '' : ' — too big for the browser'}`));
    }
    this.select.replaceChildren(...groups.values());
    if (!state.model) this.select.value = '';
  }

  private async pickFolder(): Promise<void> {
    const picker = (window as unknown as { showDirectoryPicker?: DirectoryPicker }).showDirectoryPicker;
    if (!picker) {
      this.folderInput.click();
      return;
    }
    try {
      const handle = await picker();
      this.openLocal(handle.name, { kind: 'directory', handle }, 0);
    } catch (err) {
      if ((err as DOMException).name !== 'AbortError') this.folderInput.click();
    }
  }

  private openLocal(label: string, origin: ModelOrigin, sizeBytes: number, source: 'local' | 'hub' = 'local'): void {
    const id = source === 'hub' ? label : `local:${label}`;
    this.actions.open({ id, label, source, sizeBytes, fits: true, origin });
  }
}
