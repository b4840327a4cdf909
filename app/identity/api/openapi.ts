/**
 * The OpenAPI 3.1 description of /api/v1. docs/api/openapi.json is this
 * document as served; a test keeps the two equal and checks that every
 * route under /api/v1 is described here.
 */
const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})

const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
})

const personNo = {
  name: 'personNo',
  in: 'path',
  required: true,
  description: 'The person number (学工号), case-insensitive.',
  schema: { type: 'string' },
}

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: true,
  description:
    'Any unique string (a UUID is fine). Retrying with the same key and body replays the first answer; the same key with another body is a 409.',
  schema: { type: 'string', maxLength: 255 },
}

const common = {
  '401': error('Missing, unknown or disabled credentials'),
  '403': error('The client lacks the scope'),
  '429': error('Rate limit reached; see Retry-After'),
}

const writes = {
  ...common,
  '400': error('Malformed JSON or missing Idempotency-Key'),
  '409': error('Idempotency-Key reused for another request, or a conflicting state'),
  '422': error('Validation failed; details lists each field'),
}

const personRef = { $ref: '#/components/schemas/Person' }

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Quad integration API',
    version: '1.0.0',
    description:
      'Lets school systems (academic affairs, HR) read and push people and organization changes. See docs/api/README.md.',
  },
  servers: [{ url: '/api/v1' }],
  security: [{ bearer: [] }, { basic: [] }],
  paths: {
    '/people': {
      get: {
        operationId: 'listPeople',
        summary: 'List people (scope people:read)',
        parameters: [
          {
            name: 'q',
            in: 'query',
            schema: { type: 'string' },
            description: 'Name, pinyin initials or person number prefix',
          },
          {
            name: 'identity_type',
            in: 'query',
            schema: { $ref: '#/components/schemas/IdentityType' },
          },
          { name: 'status', in: 'query', schema: { $ref: '#/components/schemas/Status' } },
          {
            name: 'org_unit',
            in: 'query',
            schema: { type: 'string' },
            description: 'Org unit code; includes units below it',
          },
          { name: 'page', in: 'query', schema: { type: 'integer', minimum: 1, default: 1 } },
          {
            name: 'per_page',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
          },
        ],
        responses: {
          '200': json({
            type: 'object',
            properties: {
              data: { type: 'array', items: personRef },
              meta: {
                type: 'object',
                properties: {
                  page: { type: 'integer' },
                  per_page: { type: 'integer' },
                  total: { type: 'integer' },
                  last_page: { type: 'integer' },
                },
              },
            },
          }),
          '422': error('Invalid filter'),
          ...common,
        },
      },
    },
    '/people/{personNo}': {
      get: {
        operationId: 'getPerson',
        summary: 'One person (scope people:read)',
        parameters: [personNo],
        responses: {
          '200': json({ type: 'object', properties: { data: personRef } }),
          '404': error('No such person'),
          ...common,
        },
      },
      put: {
        operationId: 'upsertPerson',
        summary: 'Create the person, or update the fields given (scope people:write)',
        parameters: [personNo, idempotencyKey],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PersonInput' } } },
        },
        responses: {
          '200': json({ $ref: '#/components/schemas/SavedPerson' }, 'Updated'),
          '201': json({ $ref: '#/components/schemas/SavedPerson' }, 'Created'),
          ...writes,
        },
      },
      patch: {
        operationId: 'updatePerson',
        summary: 'Update the fields given of an existing person (scope people:write)',
        parameters: [personNo, idempotencyKey],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PersonInput' } } },
        },
        responses: {
          '200': json({ $ref: '#/components/schemas/SavedPerson' }, 'Updated'),
          '404': error('No such person'),
          ...writes,
        },
      },
    },
    '/people/{personNo}/status': {
      post: {
        operationId: 'changePersonStatus',
        summary: 'Change the status, with a reason (scope people:write)',
        parameters: [personNo, idempotencyKey],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['status', 'reason'],
                properties: {
                  status: { $ref: '#/components/schemas/Status' },
                  reason: { type: 'string', maxLength: 1000 },
                },
              },
            },
          },
        },
        responses: {
          '200': json({ type: 'object', properties: { data: personRef } }),
          '404': error('No such person'),
          ...writes,
        },
      },
    },
    '/org-units': {
      get: {
        operationId: 'listOrgUnits',
        summary: 'Every org unit, parents first (scope org:read)',
        responses: {
          '200': json({
            type: 'object',
            properties: {
              data: { type: 'array', items: { $ref: '#/components/schemas/OrgUnit' } },
            },
          }),
          ...common,
        },
      },
    },
    '/org-units/{code}': {
      put: {
        operationId: 'upsertOrgUnit',
        summary: 'Create the unit, or rename and move it (scope org:write)',
        parameters: [
          { name: 'code', in: 'path', required: true, schema: { type: 'string' } },
          idempotencyKey,
        ],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['name', 'kind'],
                properties: {
                  name: { type: 'string', maxLength: 120 },
                  kind: { $ref: '#/components/schemas/OrgUnitKind' },
                  parent: {
                    type: ['string', 'null'],
                    description: 'Parent unit code; null for the root',
                  },
                },
              },
            },
          },
        },
        responses: {
          '200': json(
            { type: 'object', properties: { data: { $ref: '#/components/schemas/OrgUnit' } } },
            'Updated'
          ),
          '201': json(
            { type: 'object', properties: { data: { $ref: '#/components/schemas/OrgUnit' } } },
            'Created'
          ),
          ...writes,
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This document (no authentication)',
        security: [],
        responses: { '200': json({ type: 'object' }) },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: '`<client id>.<secret>`' },
      basic: {
        type: 'http',
        scheme: 'basic',
        description: 'client id as user name, secret as password',
      },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message', 'details'],
            properties: {
              code: { type: 'string' },
              message: { type: 'string' },
              details: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    field: { type: 'string' },
                    code: { type: 'string' },
                    message: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
      IdentityType: {
        type: 'string',
        enum: [
          'undergraduate',
          'postgraduate',
          'teacher',
          'staff',
          'alumni',
          'visitor',
          'temporary',
        ],
      },
      Status: { type: 'string', enum: ['active', 'suspended', 'graduated', 'left'] },
      OrgUnitKind: {
        type: 'string',
        enum: ['school', 'campus', 'college', 'department', 'major', 'grade', 'class'],
      },
      Person: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          person_no: { type: 'string' },
          name: { type: 'string' },
          gender: { type: 'string', enum: ['male', 'female', 'unknown'] },
          identity_type: { $ref: '#/components/schemas/IdentityType' },
          status: { $ref: '#/components/schemas/Status' },
          org_unit: {
            type: ['object', 'null'],
            properties: { code: { type: 'string' }, name: { type: 'string' } },
          },
          enrollment_year: { type: ['integer', 'null'] },
          expected_graduation_date: { type: ['string', 'null'], format: 'date' },
          email: { type: ['string', 'null'] },
          phone_masked: { type: ['string', 'null'], examples: ['139****5678'] },
          id_doc_type: { type: ['string', 'null'] },
          id_doc_masked: { type: ['string', 'null'], examples: ['4401**********1238'] },
          tags: { type: 'array', items: { type: 'string' } },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
        },
      },
      PersonInput: {
        type: 'object',
        description:
          'Required when creating: name, identity_type, org_unit. Omitted fields keep their value; null clears.',
        properties: {
          name: { type: 'string', maxLength: 64 },
          gender: { type: 'string', enum: ['male', 'female', 'unknown'] },
          identity_type: { $ref: '#/components/schemas/IdentityType' },
          org_unit: { type: 'string', description: 'Org unit code' },
          enrollment_year: { type: ['integer', 'null'] },
          expected_graduation_date: { type: ['string', 'null'], format: 'date' },
          email: { type: ['string', 'null'] },
          phone: { type: ['string', 'null'] },
          id_doc_type: {
            type: ['string', 'null'],
            enum: ['resident_id', 'passport', 'hk_macao_permit', 'taiwan_permit', 'other', null],
          },
          id_doc_number: {
            type: ['string', 'null'],
            description: 'Resident IDs are checked with the GB 11643 check digit',
          },
          tags: { type: 'array', items: { type: 'string' } },
          status: { $ref: '#/components/schemas/Status' },
          status_reason: { type: ['string', 'null'], description: 'Required when status changes' },
        },
      },
      SavedPerson: {
        type: 'object',
        properties: {
          data: personRef,
          created: { type: 'boolean' },
          changed: { type: 'array', items: { type: 'string' } },
        },
      },
      OrgUnit: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          code: { type: 'string' },
          name: { type: 'string' },
          kind: { $ref: '#/components/schemas/OrgUnitKind' },
          parent: { type: ['string', 'null'] },
          depth: { type: 'integer' },
          disabled: { type: 'boolean' },
        },
      },
    },
  },
}
