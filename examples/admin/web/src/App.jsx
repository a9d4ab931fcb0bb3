// The admin page: one react-admin resource per collection of the API, each built from the
// OpenAPI document (see openapi.js for what is read from it). Nothing here names a resource
// or a field of the examples.
import { cloneElement, useMemo, useState } from 'react';
import {
  Admin,
  BooleanField,
  BooleanInput,
  BulkDeleteButton,
  Create,
  Datagrid,
  DateField,
  DateInput,
  DateTimeInput,
  Edit,
  FunctionField,
  List,
  NullableBooleanInput,
  NumberField,
  NumberInput,
  PasswordInput,
  Resource,
  SaveButton,
  Show,
  SimpleForm,
  SimpleShowLayout,
  TextField,
  TextInput,
  Toolbar,
  required,
  useListContext,
  useRecordContext,
  useNotify,
  useRefresh,
} from 'react-admin';
import { Card, CardContent, Typography, Button, Stack, TextField as MuiTextField } from '@mui/material';
import { getToken, setToken } from './dataProvider.js';

const json = (v) => (v == null ? '' : JSON.stringify(v));

/** Elements made per field, keyed by it (react-admin reads their other props). */
const each = (items, name, make) => items.map((item) => cloneElement(make(item), { key: name(item) }));

/** The field that shows a value of `field` in a list or a record. */
function fieldFor(field, sortable) {
  const props = { source: field.name, sortable };
  switch (field.kind) {
    case 'integer':
    case 'number':
      return <NumberField {...props} options={{ useGrouping: false }} />;
    case 'boolean':
      return <BooleanField {...props} looseValue />;
    case 'datetime':
      return <DateField {...props} showTime />;
    case 'date':
      return <DateField {...props} />;
    case 'json':
      return <FunctionField {...props} render={(r) => json(r[field.name])} />;
    default:
      return <TextField {...props} />;
  }
}

/** A filter input: number, boolean, date or text (`ilike`, "contains"). */
function filterInput(filter) {
  const source = `${filter.name}@${filter.op}`;
  const props = { source, alwaysOn: true };
  switch (filter.kind) {
    case 'integer':
      return <NumberInput {...props} label={`${filter.name} =`} step={1} />;
    case 'number':
      return <NumberInput {...props} label={`${filter.name} =`} />;
    case 'boolean':
      return <NullableBooleanInput {...props} label={filter.name} />;
    case 'datetime':
      // The day's start, UTC: the API takes an RFC 3339 date-time.
      return (
        <DateInput
          {...props}
          label={`${filter.name} since`}
          parse={(v) => (v ? `${v}T00:00:00Z` : null)}
          format={(v) => (v ? String(v).slice(0, 10) : '')}
        />
      );
    case 'date':
      return <DateInput {...props} label={`${filter.name} since`} />;
    default:
      return (
        <TextInput
          {...props}
          label={filter.op === 'ilike' ? `${filter.name} contains` : `${filter.name} =`}
          resettable
        />
      );
  }
}

/** A form input for a writable field; `create` marks the required ones. */
function inputFor(field, create) {
  const validate = create && field.required ? required() : undefined;
  const props = { source: field.name, validate, helperText: field.description || ' ' };
  if (field.writeOnly) {
    // Written, never read back: masked, and empty in an edit form (left empty, unchanged).
    const helperText = create ? props.helperText : 'not shown by the API; leave empty to keep it';
    return <PasswordInput {...props} helperText={helperText} autoComplete="new-password" />;
  }
  switch (field.kind) {
    case 'integer':
      return <NumberInput {...props} step={1} />;
    case 'number':
      return <NumberInput {...props} />;
    case 'boolean':
      return field.nullable ? <NullableBooleanInput {...props} /> : <BooleanInput {...props} />;
    case 'datetime':
      return <DateTimeInput {...props} />;
    case 'date':
      return <DateInput {...props} />;
    case 'json':
      return (
        <TextInput
          {...props}
          multiline
          format={json}
          parse={(v) => {
            try {
              return JSON.parse(v);
            } catch {
              return v;
            }
          }}
        />
      );
    default:
      // An emptied input sends null (react-admin's default), which the API refuses, at the
      // field, where the field takes no null.
      return <TextInput {...props} />;
  }
}

function Title({ resource }) {
  const record = useRecordContext();
  return (
    <span>
      {resource.name}
      {record ? ` #${record[resource.key]}` : ''}
    </span>
  );
}

/** What a list shows when the API refused it (401, 403, 400, ...): the problem's detail. */
function ListError() {
  const { error } = useListContext();
  const status = error?.status;
  return (
    <CardContent role="alert" className="list-error">
      <Typography variant="subtitle1" color="error">
        {status ? `HTTP ${status}: ` : ''}
        {error?.message ?? String(error)}
      </Typography>
      {status === 401 || status === 403 ? (
        <Typography variant="body2">This resource needs a bearer token: set one on the dashboard.</Typography>
      ) : null}
    </CardContent>
  );
}

function EditToolbar() {
  // Save only: deleting a record is the list's bulk action.
  return (
    <Toolbar>
      <SaveButton />
    </Toolbar>
  );
}

/**
 * Every refusal of a save as a notification: its message is the problem's detail. (Where the
 * problem names body fields, the form also shows them at the inputs; react-admin's own
 * "the form is not valid" notification is turned off, as it misses server errors at times.)
 */
function useSaveErrors() {
  const notify = useNotify();
  return {
    onError: (error) => {
      const message = typeof error === 'string' ? error : error?.message;
      notify(message || 'ra.notification.http_error', { type: 'error', messageArgs: { _: message } });
    },
  };
}

function views(resource) {
  const list = (props) => (
    <List
      {...props}
      filters={each(resource.filters, (f) => `${f.name}@${f.op}`, filterInput)}
      sort={resource.defaultSort}
      perPage={10}
      title={resource.name}
      error={<ListError />}
    >
      <Datagrid
        rowClick={resource.show ? 'show' : resource.update ? 'edit' : false}
        bulkActionButtons={resource.delete ? <BulkDeleteButton mutationMode="pessimistic" /> : false}
      >
        {each(resource.fields, (f) => f.name, (f) => fieldFor(f, resource.sortable.has(f.name)))}
      </Datagrid>
    </List>
  );
  const show = () => (
    <Show title={<Title resource={resource} />}>
      <SimpleShowLayout>{each(resource.fields, (f) => f.name, (f) => fieldFor(f, false))}</SimpleShowLayout>
    </Show>
  );
  // Pessimistic: the page waits for the API's answer, so that a refusal is shown at the
  // field (422, 409) or as a notification (412, 403, ...) while the form is still open.
  const edit = () => (
    <Edit
      title={<Title resource={resource} />}
      mutationMode="pessimistic"
      mutationOptions={useSaveErrors()}
      redirect={resource.show ? 'show' : 'list'}
    >
      <SimpleForm toolbar={<EditToolbar />} disableInvalidFormNotification>
        {each(resource.update, (f) => f.name, (f) => inputFor(f, false))}
      </SimpleForm>
    </Edit>
  );
  const create = () => (
    <Create title={`New ${resource.name}`} mutationOptions={useSaveErrors()} redirect={resource.show ? 'show' : 'list'}>
      <SimpleForm disableInvalidFormNotification>{each(resource.create, (f) => f.name, (f) => inputFor(f, true))}</SimpleForm>
    </Create>
  );
  return {
    list,
    show: resource.show ? show : undefined,
    edit: resource.update ? edit : undefined,
    create: resource.create ? create : undefined,
  };
}

/** The home page: the resources, and the bearer token the API calls carry. */
function Dashboard({ resources, title }) {
  const [token, setValue] = useState(getToken());
  const notify = useNotify();
  const refresh = useRefresh();
  const save = (value) => {
    setToken(value.trim());
    setValue(value.trim());
    notify(value.trim() ? 'Token saved: API calls send it' : 'Token removed', { type: 'info' });
    refresh();
  };
  return (
    <Card sx={{ mt: 2 }}>
      <CardContent>
        <Typography variant="h5" gutterBottom>
          {title}
        </Typography>
        <Typography variant="body2" gutterBottom>
          Built from the API's OpenAPI document: {resources.map((r) => r.name).join(', ')}.
        </Typography>
        <Stack direction="row" spacing={1} sx={{ mt: 2, maxWidth: 560 }}>
          <MuiTextField
            label="Bearer token"
            size="small"
            fullWidth
            value={token}
            onChange={(e) => setValue(e.target.value)}
            helperText="Sent as Authorization: Bearer <token> (kept in this browser's localStorage)"
            slotProps={{ htmlInput: { 'aria-label': 'Bearer token' } }}
          />
          <Button variant="contained" onClick={() => save(token)}>
            Save
          </Button>
          <Button onClick={() => save('')}>Clear</Button>
        </Stack>
      </CardContent>
    </Card>
  );
}

export function App({ resources, dataProvider, title }) {
  // The views are components: made once, so that a render of App never remounts them.
  const made = useMemo(() => resources.map((r) => [r, views(r)]), [resources]);
  const dashboard = useMemo(() => () => <Dashboard resources={resources} title={title} />, [resources, title]);
  return (
    <Admin dataProvider={dataProvider} title={title} dashboard={dashboard} disableTelemetry requireAuth={false}>
      {made.map(([r, v]) => (
        <Resource key={r.name} name={r.name} {...v} recordRepresentation={r.key} />
      ))}
    </Admin>
  );
}
